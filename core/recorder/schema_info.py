"""What the generated codec's numpy dtypes do not say about a field: its schema type, read from the SBE
XML schema (the source of truth). Export and stats need it to tell prices and quantities (fixed-point
mantissas scaled by the instrument's exponents) from plain integers, enums from numbers, optional
fields' null values, and the width of var data length prefixes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import core.codec

SCHEMA_PATH = Path(core.codec.__file__).resolve().parent / "schema" / "aerodesk.xml"

PRICE_TYPES = frozenset({"Price", "OptionalPrice"})
QTY_TYPES = frozenset({"Qty"})
_UINT_BYTES = {"uint8": 1, "uint16": 2, "uint32": 4}


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type_name: str  # the schema type: a primitive, a <type>, <enum>, <set> or <composite> name
    kind: str  # "int" | "enum" | "set" | "composite" | "chars"
    null_value: int | None = None  # for optional fields

    @property
    def scale(self) -> str | None:
        """ "price" / "qty" when the field is a fixed-point mantissa of the instrument's exponent."""
        if self.type_name in PRICE_TYPES:
            return "price"
        if self.type_name in QTY_TYPES:
            return "qty"
        return None


@dataclass(frozen=True)
class BlockInfo:
    """A message root or a group entry: its fields by name, its groups and its var data."""

    fields: dict[str, FieldInfo]
    groups: dict[str, BlockInfo] = field(default_factory=dict)
    data_length_bytes: dict[str, int] = field(default_factory=dict)  # var data name -> prefix width


@cache
def schema_blocks(path: Path = SCHEMA_PATH) -> dict[str, BlockInfo]:
    """Every message of the schema by name."""
    root = ET.parse(path).getroot()
    types = root.find("types")
    if types is None:
        raise ValueError(f"{path}: no <types>")
    kinds: dict[str, tuple[str, int | None]] = {}
    var_prefix: dict[str, int] = {}
    for t in types:
        name = t.get("name", "")
        tag = t.tag.split("}")[-1]
        if tag == "type":
            is_chars = t.get("primitiveType") == "char" and int(t.get("length", "1")) > 1
            null = t.get("nullValue") if t.get("presence") == "optional" else None
            kinds[name] = ("chars" if is_chars else "int", int(null) if null is not None else None)
        elif tag in ("enum", "set"):
            kinds[name] = (tag, None)
        elif tag == "composite":
            kinds[name] = ("composite", None)
            length = next((c for c in t if c.get("name") == "length"), None)
            if length is not None and any(c.get("name") == "varData" for c in t):
                var_prefix[name] = _UINT_BYTES.get(length.get("primitiveType", ""), 0)
    return {m.get("name", ""): _block(m, kinds, var_prefix) for m in root if m.tag.endswith("message")}


def _block(
    element: ET.Element, kinds: dict[str, tuple[str, int | None]], prefix: dict[str, int]
) -> BlockInfo:
    fields: dict[str, FieldInfo] = {}
    groups: dict[str, BlockInfo] = {}
    data: dict[str, int] = {}
    for child in element:
        tag, name, type_name = child.tag.split("}")[-1], child.get("name", ""), child.get("type", "")
        if tag == "field":
            kind, null = kinds.get(type_name, ("int", None))
            fields[name] = FieldInfo(name, type_name, kind, null)
        elif tag == "group":
            groups[name] = _block(child, kinds, prefix)
        elif tag == "data":
            data[name] = prefix.get(type_name, 0)
    return BlockInfo(fields, groups, data)
