"""The parsed, resolved and laid-out model of an SBE 1.0 message schema (what the generator works from).

Offsets and sizes are final here: every block (message root, group entry, composite) knows where each of
its members sits, so the code generator only has to translate, never to compute layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.codec.sbe.primitives import Primitive

Presence = Literal["required", "optional", "constant"]


@dataclass
class EncodedType:
    """A <type>: one primitive or a fixed array of them."""

    name: str
    primitive: Primitive
    length: int = 1
    presence: Presence = "required"
    null_value: int | float | None = None  # explicit nullValue, else the primitive's
    min_value: int | float | None = None
    max_value: int | float | None = None
    constant: str | None = None  # text of a presence="constant" type
    character_encoding: str | None = None
    since_version: int = 0
    deprecated: int | None = None
    offset: int | None = None  # explicit offset inside a composite
    semantic_type: str | None = None
    description: str | None = None
    line: int | None = None

    @property
    def size(self) -> int:
        return 0 if self.presence == "constant" else self.primitive.size * self.length

    @property
    def effective_null(self) -> int | float:
        return self.primitive.null_value if self.null_value is None else self.null_value


@dataclass
class ValidValue:
    name: str
    value: int
    since_version: int = 0
    description: str | None = None


@dataclass
class EnumType:
    name: str
    encoding: Primitive
    values: list[ValidValue]
    null_value: int | float | None = None  # from an encodingType <type nullValue=...>
    since_version: int = 0
    offset: int | None = None
    description: str | None = None
    line: int | None = None

    @property
    def size(self) -> int:
        return self.encoding.size

    @property
    def effective_null(self) -> int | float:
        return self.encoding.null_value if self.null_value is None else self.null_value

    def value_of(self, name: str) -> int | None:
        for v in self.values:
            if v.name == name:
                return v.value
        return None


@dataclass
class Choice:
    name: str
    bit: int
    since_version: int = 0
    description: str | None = None


@dataclass
class SetType:
    name: str
    encoding: Primitive
    choices: list[Choice]
    since_version: int = 0
    offset: int | None = None
    description: str | None = None
    line: int | None = None

    @property
    def size(self) -> int:
        return self.encoding.size


@dataclass
class Member:
    """One member of a composite, laid out at `offset` from the composite's start."""

    name: str
    type: Type
    offset: int = 0
    since_version: int = 0
    line: int | None = None


@dataclass
class CompositeType:
    name: str
    members: list[Member] = field(default_factory=list)
    size: int = 0
    since_version: int = 0
    offset: int | None = None
    description: str | None = None
    semantic_type: str | None = None
    line: int | None = None

    def member(self, name: str) -> Member | None:
        for m in self.members:
            if m.name == name:
                return m
        return None


Type = EncodedType | EnumType | SetType | CompositeType


@dataclass
class Field:
    """A fixed-size field of a message root or group entry."""

    name: str
    id: int
    type: Type
    offset: int = 0
    presence: Presence = "required"
    null_value: int | float | None = None  # wire null of an optional encoded type or enum
    constant_ref: tuple[str, str] | None = None  # valueRef (enum name, valid value name)
    since_version: int = 0
    deprecated: int | None = None
    semantic_type: str | None = None
    description: str | None = None
    line: int | None = None

    @property
    def size(self) -> int:
        return 0 if self.presence == "constant" else self.type.size


@dataclass
class VarData:
    """A <data> element: a length prefix followed by that many bytes."""

    name: str
    id: int
    type: CompositeType
    length: EncodedType  # the 'length' member
    character_encoding: str | None = None
    max_length: int = 0
    since_version: int = 0
    deprecated: int | None = None
    description: str | None = None
    line: int | None = None


@dataclass
class Group:
    name: str
    id: int
    dimension: CompositeType
    block_length: int = 0
    fields: list[Field] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    data: list[VarData] = field(default_factory=list)
    since_version: int = 0
    deprecated: int | None = None
    description: str | None = None
    line: int | None = None


@dataclass
class Message:
    name: str
    id: int
    block_length: int = 0
    fields: list[Field] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    data: list[VarData] = field(default_factory=list)
    since_version: int = 0
    deprecated: int | None = None
    semantic_type: str | None = None
    description: str | None = None
    line: int | None = None


@dataclass
class Schema:
    package: str
    id: int
    version: int
    byte_order: Literal["littleEndian", "bigEndian"]
    header: CompositeType
    types: dict[str, Type]
    messages: list[Message]
    semantic_version: str | None = None
    description: str | None = None
    namespace: str = ""

    @property
    def struct_order(self) -> str:
        return "<" if self.byte_order == "littleEndian" else ">"
