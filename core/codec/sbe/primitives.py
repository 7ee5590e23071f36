"""SBE 1.0 primitive types: wire size, struct code, valid range and null value (spec: 'Range attributes')."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Primitive:
    name: str
    code: str  # struct format character
    size: int
    min_value: int | float  # smallest valid value (the null value excluded)
    max_value: int | float
    null_value: int | float
    is_float: bool = False
    is_char: bool = False
    signed: bool = False

    @property
    def wire_min(self) -> int | float:
        """Smallest value the wire can carry (null included)."""
        if self.is_float or self.is_char:
            return self.min_value if not self.is_char else 0
        return -(1 << (8 * self.size - 1)) if self.signed else 0

    @property
    def wire_max(self) -> int | float:
        if self.is_float:
            return self.max_value
        return (1 << (8 * self.size - 1)) - 1 if self.signed else (1 << (8 * self.size)) - 1


def _int(name: str, code: str, size: int, signed: bool) -> Primitive:
    bits = 8 * size
    if signed:
        lo, hi, null = -(1 << (bits - 1)) + 1, (1 << (bits - 1)) - 1, -(1 << (bits - 1))
    else:
        lo, hi, null = 0, (1 << bits) - 2, (1 << bits) - 1
    return Primitive(name, code, size, lo, hi, null, signed=signed)


PRIMITIVES: dict[str, Primitive] = {
    "char": Primitive("char", "s", 1, 0x20, 0x7E, 0, is_char=True),
    "int8": _int("int8", "b", 1, True),
    "uint8": _int("uint8", "B", 1, False),
    "int16": _int("int16", "h", 2, True),
    "uint16": _int("uint16", "H", 2, False),
    "int32": _int("int32", "i", 4, True),
    "uint32": _int("uint32", "I", 4, False),
    "int64": _int("int64", "q", 8, True),
    "uint64": _int("uint64", "Q", 8, False),
    "float": Primitive(
        "float", "f", 4, -3.4028234663852886e38, 3.4028234663852886e38, math.nan, is_float=True
    ),
    "double": Primitive(
        "double", "d", 8, -1.7976931348623157e308, 1.7976931348623157e308, math.nan, is_float=True
    ),
}

NUMPY_KIND = {
    "char": "S",
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "int64": "i8",
    "uint64": "u8",
    "float": "f4",
    "double": "f8",
}


def parse_number(primitive: Primitive, text: str) -> int | float:
    """Parses a schema literal (nullValue, minValue, constant...) of a primitive; raises ValueError."""
    text = text.strip()
    if primitive.is_float:
        if text.lower() == "nan":
            return math.nan
        return float(text)
    if primitive.is_char:
        if len(text) == 1:
            return ord(text)
        return int(text, 0)
    return int(text, 0)
