"""Code-generation plan: every block (message root, group entry, composite) as struct formats, value
indexes and field kinds, plus the Python names the generated module will use.

The generated code reads a whole fixed block with one struct, so each field occupies a run of values
(`index`, `nvals`) in the unpacked tuple; flat composites are inlined, other composites are raw bytes.
"""

from __future__ import annotations

import ast
import keyword
import math
from dataclasses import dataclass, field
from pathlib import Path

from core.codec.sbe.diagnostics import Collector, Issue, SchemaError
from core.codec.sbe.ir import (
    CompositeType,
    EncodedType,
    EnumType,
    Field,
    Group,
    Member,
    Message,
    Schema,
    SetType,
    Type,
    VarData,
)
from core.codec.sbe.primitives import NUMPY_KIND, Primitive

RUNTIME_PATH = Path(__file__).with_name("runtime.py")

# attribute names the generated classes define themselves: a field of that name would hide them
VIEW_RESERVED = {
    "to_dict",
    "header",
    "acting_version",
    "encoded_length",
    "encode",
    "decode",
    "encode_bytes",
    "NAME",
    "TEMPLATE_ID",
    "BLOCK_LENGTH",
    "SINCE_VERSION",
    "FIELDS",
    "GROUPS",
    "DATA",
    "BLOCK_DTYPE",
    "DESCRIPTION",
    "GROUP_TYPES",
    "rows",
}
COMPOSITE_RESERVED = {"to_dict", "NAME", "SIZE", "DTYPE", "BLOCK_DTYPE", "MEMBERS"}
MODULE_API = {
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "SCHEMA_PACKAGE",
    "SEMANTIC_VERSION",
    "BYTE_ORDER",
    "HEADER_SIZE",
    "MESSAGES",
    "MESSAGES_BY_NAME",
    "decode",
    "decode_header",
    "encode_header",
    "MessageHeader",
    "HEADER_DTYPE",
}


def runtime_names() -> set[str]:
    """Top-level names of the runtime prelude, which generated names must not shadow."""
    tree = ast.parse(RUNTIME_PATH.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names.add(n.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
    return names


def py_name(name: str) -> str:
    """A usable Python identifier for a schema name (keywords get a trailing underscore)."""
    return name + "_" if keyword.iskeyword(name) or name == "None" else name


def is_plain_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def literal(value: object) -> str:
    """Python source for a number, keeping NaN and infinities valid."""
    if isinstance(value, float):
        if math.isnan(value):
            return "math.nan"
        if math.isinf(value):
            return "math.inf" if value > 0 else "-math.inf"
    return repr(value)


@dataclass
class FieldPlan:
    name: str
    param: str
    kind: str  # see runtime: int float chars bytes array enum set flat opaque const
    index: int
    nvals: int
    fmt: str
    offset: int
    size: int
    since: int
    optional: bool
    null: int | float | None
    cls: str | None  # generated class of an enum, set or composite
    length: int
    codec: str | None
    const_expr: str | None
    lo: int | float | None
    hi: int | float | None
    prim: str
    description: str | None
    type_obj: Type

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass
class DimPlan:
    fmt: str
    size: int
    nvals: int
    bl_index: int
    n_index: int
    max_count: int


@dataclass
class DataPlan:
    name: str
    param: str
    since: int
    len_code: str
    len_size: int
    max_len: int
    codec: str | None
    description: str | None


@dataclass
class GroupPlan:
    name: str
    param: str
    since: int
    dim: DimPlan
    block: BlockPlan
    description: str | None


@dataclass
class BlockPlan:
    cls: str  # generated class name
    schema_name: str
    fields: list[FieldPlan] = field(default_factory=list)
    groups: list[GroupPlan] = field(default_factory=list)
    data: list[DataPlan] = field(default_factory=list)
    size: int = 0
    fmt: str = ""
    nvals: int = 0
    description: str | None = None
    line: int | None = None

    @property
    def wire_fields(self) -> list[FieldPlan]:
        return [f for f in self.fields if f.nvals]

    @property
    def max_since(self) -> int:
        return max([f.since for f in self.fields] + [0])

    @property
    def fixed_only(self) -> bool:
        return not self.groups and not self.data

    @property
    def simple_entries(self) -> bool:
        """Entries are flat blocks (no nested groups or var data): a run of them is one struct."""
        return all(g.block.fixed_only for g in self.groups)

    @property
    def passthrough(self) -> bool:
        """The user's value tuple of an entry equals its wire values: entries can be flattened as given."""
        return all(f.kind in ("int", "float", "enum", "set") and not f.optional for f in self.fields)


@dataclass
class CompositePlan:
    block: BlockPlan
    flat: bool
    type_obj: CompositeType


@dataclass
class MessagePlan:
    block: BlockPlan
    message: Message
    entry_blocks: list[BlockPlan] = field(default_factory=list)  # innermost first


@dataclass
class ModulePlan:
    schema: Schema
    order: str
    enums: dict[str, tuple[str, EnumType]] = field(default_factory=dict)  # schema name -> (class, type)
    sets: dict[str, tuple[str, SetType]] = field(default_factory=dict)
    composites: dict[str, CompositePlan] = field(default_factory=dict)  # by schema name, dependency order
    header: CompositePlan | None = None
    messages: list[MessagePlan] = field(default_factory=list)


class Planner:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.col = Collector()
        self.taken = runtime_names() | MODULE_API | set(keyword.kwlist) | {"None", "True", "False"}
        self.plan = ModulePlan(schema=schema, order=schema.struct_order)

    def unique(self, wanted: str) -> str:
        name = py_name(wanted)
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name

    def build(self) -> ModulePlan:
        for m in self.schema.messages:  # messages keep their names: they are the API
            if m.name in self.taken:
                self.col.error(
                    m.line, f'<message name="{m.name}">', "name clashes with the generated module's API"
                )
            self.taken.add(m.name)
        for t in self.schema.types.values():
            if isinstance(t, (EnumType, SetType)):
                self.type_class(t)
        self.plan.header = self.composite(self.schema.header, header=True)
        for m in self.schema.messages:
            self.plan.messages.append(self.message(m))
        if self.col.has_errors:
            raise SchemaError(self.col.issues)
        return self.plan

    def type_class(self, t: EnumType | SetType) -> str:
        """The generated class of an enum or set (registered on first use: composites may hold their own)."""
        registry: dict = self.plan.enums if isinstance(t, EnumType) else self.plan.sets
        if t.name not in registry:
            registry[t.name] = (self.unique(t.name), t)
        return registry[t.name][0]

    # ---- composites --------------------------------------------------------------------------------

    def composite(self, c: CompositeType, header: bool = False) -> CompositePlan:
        key = "\0header" if header else c.name
        existing = self.plan.composites.get(key)
        if existing is not None:
            return existing
        for m in c.members:  # nested composites first (dependency order)
            if isinstance(m.type, CompositeType):
                self.composite(m.type)
        cls = "MessageHeader" if header else self.unique(c.name)
        block = BlockPlan(cls=cls, schema_name=c.name, description=c.description, line=c.line)
        pos = 0
        fmt: list[str] = []
        index = 0
        for m in c.members:
            fp = self.field_plan(
                m.name,
                m.type,
                _member_presence(m),
                _member_null(m),
                None,
                m.offset,
                m.since_version,
                index,
                block,
                COMPOSITE_RESERVED,
                m.line,
                getattr(m.type, "description", None),
            )
            if fp is None:
                continue
            if fp.nvals:
                if m.offset > pos:
                    fmt.append(f"{m.offset - pos}x")
                fmt.append(fp.fmt)
                pos = m.offset + fp.size
            index += fp.nvals
            block.fields.append(fp)
        block.size = c.size
        if c.size > pos:
            fmt.append(f"{c.size - pos}x")
        block.fmt = "".join(fmt)
        block.nvals = index
        flat = all(
            f.kind in ("int", "float", "enum", "set", "flat")
            and not f.optional
            and f.since == 0
            and f.length == 1
            for f in block.fields
        ) and bool(block.fields)
        if header:
            flat = True
        plan = CompositePlan(block=block, flat=flat, type_obj=c)
        self.plan.composites[key] = plan
        return plan

    # ---- fields ------------------------------------------------------------------------------------

    def field_plan(
        self,
        name: str,
        t: Type,
        presence: str,
        null: int | float | None,
        constant_ref: tuple[str, str] | None,
        offset: int,
        since: int,
        index: int,
        block: BlockPlan,
        reserved: set[str],
        line: int | None,
        description: str | None,
    ) -> FieldPlan | None:
        if name in reserved or (name.startswith("__") and name.endswith("__")):
            self.col.error(
                line, f'<field name="{name}">', f"name {name!r} clashes with the generated class {block.cls}"
            )
            return None
        common = dict(
            name=name,
            param=py_name(name),
            index=index,
            offset=offset,
            since=since,
            optional=presence == "optional",
            description=description,
            type_obj=t,
        )
        if presence == "constant":
            return FieldPlan(
                **common,
                kind="const",
                nvals=0,
                fmt="",
                size=0,
                null=None,
                cls=None,
                length=0,  # type: ignore[arg-type]
                codec=None,
                const_expr=self.const_expr(t, constant_ref, line, name),
                lo=None,
                hi=None,
                prim=_prim_name(t),
            )
        if isinstance(t, EnumType):
            p = t.encoding
            lo, hi = (0, 255) if p.is_char else (p.wire_min, p.wire_max)
            return FieldPlan(
                **common,
                kind="enum",
                nvals=1,
                fmt="B" if p.is_char else p.code,
                size=p.size,  # type: ignore[arg-type]
                null=null if presence == "optional" else t.effective_null,
                cls=self.type_class(t),
                length=1,
                codec=None,
                const_expr=None,
                lo=lo,
                hi=hi,
                prim=p.name,
            )
        if isinstance(t, SetType):
            p = t.encoding
            return FieldPlan(
                **common,
                kind="set",
                nvals=1,
                fmt=p.code,
                size=p.size,
                null=None,  # type: ignore[arg-type]
                cls=self.type_class(t),
                length=1,
                codec=None,
                const_expr=None,
                lo=0,
                hi=p.wire_max,
                prim=p.name,
            )
        if isinstance(t, CompositeType):
            cp = self.composite(t)
            if cp.flat:
                return FieldPlan(
                    **common,
                    kind="flat",
                    nvals=cp.block.nvals,
                    fmt=cp.block.fmt,
                    size=t.size,  # type: ignore[arg-type]
                    null=None,
                    cls=cp.block.cls,
                    length=1,
                    codec=None,
                    const_expr=None,
                    lo=None,
                    hi=None,
                    prim=t.name,
                )
            return FieldPlan(
                **common,
                kind="opaque",
                nvals=1,
                fmt=f"{t.size}s",
                size=t.size,
                null=None,  # type: ignore[arg-type]
                cls=cp.block.cls,
                length=t.size,
                codec=None,
                const_expr=None,
                lo=None,
                hi=None,
                prim=t.name,
            )
        assert isinstance(t, EncodedType)
        p = t.primitive
        n = t.length
        if p.is_char or (p.name == "uint8" and n > 1 and t.character_encoding):
            return FieldPlan(
                **common,
                kind="chars",
                nvals=1,
                fmt=f"{n}s",
                size=n,
                null=None,
                cls=None,
                length=n,  # type: ignore[arg-type]
                codec=t.character_encoding or "ascii",
                const_expr=None,
                lo=None,
                hi=None,
                prim=p.name,
            )
        if p.name == "uint8" and n > 1:
            return FieldPlan(
                **common,
                kind="bytes",
                nvals=1,
                fmt=f"{n}s",
                size=n,
                null=None,
                cls=None,
                length=n,  # type: ignore[arg-type]
                codec=None,
                const_expr=None,
                lo=None,
                hi=None,
                prim=p.name,
            )
        eff_null = t.effective_null if null is None else null
        kind = "float" if p.is_float else "int"
        if n > 1:
            return FieldPlan(
                **common,
                kind="array",
                nvals=n,
                fmt=f"{n}{p.code}",
                size=p.size * n,
                null=eff_null,  # type: ignore[arg-type]
                cls=None,
                length=n,
                codec=None,
                const_expr=None,
                lo=p.wire_min,
                hi=p.wire_max,
                prim=p.name,
            )
        return FieldPlan(
            **common,
            kind=kind,
            nvals=1,
            fmt=p.code,
            size=p.size,
            null=eff_null,
            cls=None,
            length=1,  # type: ignore[arg-type]
            codec=None,
            const_expr=None,
            lo=p.wire_min,
            hi=p.wire_max,
            prim=p.name,
        )

    def const_expr(self, t: Type, ref: tuple[str, str] | None, line: int | None, name: str) -> str:
        if ref is not None:
            enum_name, value = ref
            t_enum = self.schema.types[enum_name]
            assert isinstance(t_enum, EnumType)
            cls = self.type_class(t_enum)
            return f"{cls}.{value}" if is_plain_identifier(value) and value != "mro" else f"{cls}[{value!r}]"
        if isinstance(t, EncodedType) and t.constant is not None:
            if t.primitive.is_char:
                return repr(t.constant)
            try:
                return literal(float(t.constant) if t.primitive.is_float else int(t.constant, 0))
            except ValueError:
                self.col.error(line, f'<field name="{name}">', f"constant {t.constant!r} is not a number")
        else:
            self.col.error(line, f'<field name="{name}">', "constant without a value")
        return "None"

    # ---- messages and groups -----------------------------------------------------------------------

    def message(self, m: Message) -> MessagePlan:
        block = BlockPlan(cls=m.name, schema_name=m.name, description=m.description, line=m.line)
        mp = MessagePlan(block=block, message=m)
        self.fill_block(block, m.fields, m.groups, m.data, m.block_length, VIEW_RESERVED, mp, m.name)
        return mp

    def fill_block(
        self,
        block: BlockPlan,
        fields: list[Field],
        groups: list[Group],
        data: list[VarData],
        block_length: int,
        reserved: set[str],
        mp: MessagePlan,
        path: str,
    ) -> None:
        pos = 0
        index = 0
        fmt: list[str] = []
        for f in fields:
            fp = self.field_plan(
                f.name,
                f.type,
                f.presence,
                f.null_value,
                f.constant_ref,
                f.offset,
                f.since_version,
                index,
                block,
                reserved,
                f.line,
                f.description,
            )
            if fp is None:
                continue
            if fp.nvals:
                if f.offset > pos:
                    fmt.append(f"{f.offset - pos}x")
                fmt.append(fp.fmt)
                pos = f.offset + fp.size
            index += fp.nvals
            block.fields.append(fp)
        if block_length > pos:
            fmt.append(f"{block_length - pos}x")
        block.fmt = "".join(fmt)
        block.size = block_length
        block.nvals = index
        for g in groups:
            if g.name in reserved:
                self.col.error(
                    g.line, f'<group name="{g.name}">', f"name {g.name!r} clashes with the generated class"
                )
            entry = BlockPlan(
                cls=self.unique(f"{path}_{g.name}"),
                schema_name=g.name,
                description=g.description,
                line=g.line,
            )
            self.fill_block(
                entry,
                g.fields,
                g.groups,
                g.data,
                g.block_length,
                VIEW_RESERVED - {"encode"},
                mp,
                f"{path}_{g.name}",
            )
            mp.entry_blocks.append(entry)
            block.groups.append(
                GroupPlan(g.name, py_name(g.name), g.since_version, self.dim_plan(g), entry, g.description)
            )
        for d in data:
            if d.name in reserved:
                self.col.error(
                    d.line, f'<data name="{d.name}">', f"name {d.name!r} clashes with the generated class"
                )
            p = d.length.primitive
            block.data.append(
                DataPlan(
                    d.name,
                    py_name(d.name),
                    d.since_version,
                    p.code,
                    p.size,
                    d.max_length,
                    d.character_encoding,
                    d.description,
                )
            )

    def dim_plan(self, g: Group) -> DimPlan:
        dim = self.composite(g.dimension)
        names = [f.name for f in dim.block.fields]
        n_member = g.dimension.member("numInGroup")
        assert n_member is not None and isinstance(n_member.type, EncodedType)
        nt = n_member.type
        max_count = int(nt.max_value) if nt.max_value is not None else int(nt.primitive.max_value)
        return DimPlan(
            fmt=dim.block.fmt,
            size=dim.block.size,
            nvals=dim.block.nvals,
            bl_index=dim.block.fields[names.index("blockLength")].index,
            n_index=dim.block.fields[names.index("numInGroup")].index,
            max_count=max_count,
        )


def _member_presence(m: Member) -> str:
    t = m.type
    if isinstance(t, EncodedType):
        return t.presence
    return "required"


def _member_null(m: Member) -> int | float | None:
    t = m.type
    if isinstance(t, EncodedType) and t.presence == "optional":
        return t.effective_null
    return None


def _prim_name(t: Type) -> str:
    if isinstance(t, EncodedType):
        return t.primitive.name
    if isinstance(t, (EnumType, SetType)):
        return t.encoding.name
    return t.name


def numpy_format(fp: FieldPlan, order: str, plan: ModulePlan) -> str:
    """Python source of the numpy dtype of one field (nested dtype for composites)."""
    t = fp.type_obj
    if fp.kind in ("chars", "bytes"):
        return repr(f"S{fp.length}") if fp.kind == "chars" else repr(("u1", (fp.length,)))
    if fp.kind in ("flat", "opaque"):
        assert isinstance(t, CompositeType)
        return block_dtype(plan.composites[t.name].block, order, plan)
    prim: Primitive
    if isinstance(t, (EnumType, SetType)):
        prim = t.encoding
    else:
        assert isinstance(t, EncodedType)
        prim = t.primitive
    kind = "u1" if prim.is_char else NUMPY_KIND[prim.name]
    code = f"{order}{kind}" if prim.size > 1 else f"|{kind}"
    if fp.kind == "array":
        return repr((code, (fp.length,)))
    return repr(code)


def block_dtype(block: BlockPlan, order: str, plan: ModulePlan) -> str:
    wire = block.wire_fields
    names = [f.name for f in wire]
    formats = [numpy_format(f, order, plan) for f in wire]
    offsets = [f.offset for f in wire]
    return (
        f"np.dtype({{'names': {names!r}, 'formats': [{', '.join(formats)}], 'offsets': {offsets!r}, "
        f"'itemsize': {block.size}}})"
    )


def build_plan(schema: Schema) -> ModulePlan:
    return Planner(schema).build()


def plan_issues(schema: Schema) -> list[Issue]:
    """Problems the generator would refuse (name clashes), for `sbe check`."""
    try:
        build_plan(schema)
    except SchemaError as exc:
        return exc.issues
    return []
