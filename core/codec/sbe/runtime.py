# ---- runtime: identical in every generated module (source: core/codec/sbe/runtime.py) ----
"""Runtime of generated SBE codecs.

The code generator copies this file verbatim into each generated module, so a generated module
needs nothing but the standard library and numpy. Generated code adds, per schema, the fast paths
(precompiled structs of the header and whole message: direct pack_into calls to encode, one
unpack_from to decode; helpers for message shapes below) and the metadata (`_Block`, `_F`, `_G`,
`_D`) that the generic paths below interpret. The generic paths handle everything the fast paths
leave out: acting versions older or newer than the schema, input that needs converting (enum names,
dicts, str), nested groups, and precise error reports.
"""

from __future__ import annotations

import enum
import math
import struct
import threading
from operator import itemgetter as _ig  # also used by generated accessors

import numpy as np

_tnew = tuple.__new__
_onew = object.__new__
_Struct = struct.Struct
_struct_error = struct.error

# kinds of fields and composite members
INT, FLOAT, CHARS, BYTES, ARRAY, ENUM, SET, FLAT, OPAQUE, CONST = (
    "int",
    "float",
    "chars",
    "bytes",
    "array",
    "enum",
    "set",
    "flat",
    "opaque",
    "const",
)


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()  # default of a required encoder argument that was not given


class SbeError(ValueError):
    """Base of every error raised by generated codecs."""


class TruncatedMessageError(SbeError):
    """The buffer ends before the message does."""

    def __init__(self, what: str, offset: int, needed: int, available: int) -> None:
        self.what, self.offset, self.needed, self.available = what, offset, needed, available
        super().__init__(
            f"truncated message: {what} at offset {offset} needs {needed} bytes, "
            f"only {max(available, 0)} left"
        )


class UnknownTemplateError(SbeError):
    """The header names a template id this schema does not define; `header` is the decoded header."""

    def __init__(self, header: object, offset: int = 0) -> None:
        self.header, self.offset = header, offset
        super().__init__(f"unknown template id {header[1]} at offset {offset} (header {header!r})")  # type: ignore[index]


class SchemaMismatchError(SbeError):
    """The header names another schema id; `header` is the decoded header."""

    def __init__(self, header: object, expected: int, offset: int = 0) -> None:
        self.header, self.expected, self.offset = header, expected, offset
        super().__init__(
            f"schema id {header[2]} at offset {offset} is not this schema's {expected} (header {header!r})"  # type: ignore[index]
        )


class TemplateMismatchError(SbeError):
    """A message class was asked to decode a message of another template."""


class MalformedMessageError(SbeError):
    """The message is self-inconsistent (e.g. a group count above the dimension's maximum)."""


class EncodeError(SbeError):
    """A value cannot be encoded; the message names the field path and the reason."""


class BufferTooSmallError(EncodeError):
    """The buffer has not enough room from the offset for the encoded message."""


class SbeEnum(enum.IntEnum):
    """Base of generated enums. A value the schema does not define decodes to a pseudo-member named
    UNKNOWN_<value> that keeps the raw value (`is_unknown` is True); decoding never raises."""

    @classmethod
    def _missing_(cls, value: object) -> SbeEnum | None:
        if isinstance(value, int):
            member = int.__new__(cls, value)
            member._name_ = f"UNKNOWN_{int(value)}"
            member._value_ = int(value)
            return member
        return None

    @property
    def is_unknown(self) -> bool:
        return type(self)._value2member_map_.get(self._value_) is not self


class SbeSet(enum.IntFlag, boundary=enum.KEEP):
    """Base of generated sets (bit choices). Unknown bits are kept in the value."""

    def to_dict(self) -> dict[str, bool]:
        cls = type(self)
        value = int(self)
        out = {name: bool(value & cls[name]._value_) for name in cls._member_names_}
        known = 0
        for name in cls._member_names_:
            known |= cls[name]._value_
        if value & ~known:
            out["_unknownBits"] = value & ~known
        return out


def _enum_of(cls: type[SbeEnum], value: int | None) -> SbeEnum | None:
    """Slow path of enum decoding: None for an absent field, else the member or an unknown pseudo-member."""
    if value is None:
        return None
    return cls(value)


def _flat_values(cls: type, values: tuple) -> list:
    """Wire values of a flat composite built from member values (enum and set names converted)."""
    out: list = []
    for f, v in zip(cls._META.fields, values, strict=True):
        _put(f, v, out, f"{cls.NAME}.")
    return out


# ---- metadata interpreted by the generic paths ------------------------------------------------------


class _F:
    """A fixed-size field of a block (or member of a composite) and its place in the block's value tuple."""

    __slots__ = (
        "cls",
        "codec",
        "const",
        "end",
        "hi",
        "index",
        "kind",
        "length",
        "lo",
        "name",
        "null",
        "nvals",
        "offset",
        "optional",
        "param",
        "prim",
        "since",
    )

    def __init__(
        self,
        name,
        param,
        kind,
        index,
        nvals,
        since,
        optional,
        null,
        cls,
        length,
        codec,
        const,
        lo,
        hi,
        offset,
        end,
        prim,
    ):
        self.name, self.param, self.kind, self.index, self.nvals = name, param, kind, index, nvals
        self.since, self.optional, self.null, self.cls, self.length = since, optional, null, cls, length
        self.codec, self.const, self.lo, self.hi = codec, const, lo, hi
        self.offset, self.end, self.prim = offset, end, prim


class _G:
    """A repeating group: its dimension composite and its entry block."""

    __slots__ = (
        "bl_index",
        "block",
        "cls",
        "dim_nvals",
        "dim_struct",
        "max_count",
        "n_index",
        "name",
        "param",
        "since",
    )

    def __init__(self, name, param, since, dim_struct, dim_nvals, bl_index, n_index, max_count, block, cls):
        self.name, self.param, self.since, self.dim_struct, self.dim_nvals = (
            name,
            param,
            since,
            dim_struct,
            dim_nvals,
        )
        self.bl_index, self.n_index, self.max_count, self.block, self.cls = (
            bl_index,
            n_index,
            max_count,
            block,
            cls,
        )


class _D:
    """A var data field: length prefix struct, maximum length, text codec (None: raw bytes)."""

    __slots__ = ("codec", "len_struct", "max_len", "name", "param", "since")

    def __init__(self, name, param, since, len_struct, max_len, codec):
        self.name, self.param, self.since, self.len_struct, self.max_len, self.codec = (
            name,
            param,
            since,
            len_struct,
            max_len,
            codec,
        )


class _Block:
    """Layout of a message root, group entry or composite: one struct covers the whole fixed block."""

    __slots__ = ("data", "fields", "flat", "groups", "max_since", "name", "names", "nvals", "size", "struct")

    def __init__(self, name, fields, groups, data, size, struct_):
        self.name, self.fields, self.groups, self.data, self.size, self.struct = (
            name,
            fields,
            groups,
            data,
            size,
            struct_,
        )
        self.nvals = sum(f.nvals for f in fields)
        self.max_since = max([f.since for f in fields] + [0])
        self.names = tuple([f.name for f in fields] + [g.name for g in groups] + [d.name for d in data])
        # flat: every group has fixed-size entries, so a view is the message's wire values in order
        self.flat = all(not g.block.groups and not g.block.data for g in groups)


class _SchemaInfo:
    """Per-module schema facts the generic paths need; filled in by the generated code."""

    id = 0
    version = 0
    header_struct: struct.Struct
    header_cls: type
    header_fields = (0, 1, 2, 3)  # indexes of blockLength, templateId, schemaId, version in the header tuple
    header_nvals = 4
    messages: dict = {}


_SCHEMA = _SchemaInfo()
CODEC_STATS = {"encode_fallbacks": 0, "decode_fallbacks": 0}  # generic-path use, for tests and benchmarks


# ---- decoded values ---------------------------------------------------------------------------------


def _get(f: _F, t: tuple, base: int = 0) -> object:
    """The decoded value of field `f` from the value tuple `t` of a view whose block starts at `base`."""
    kind = f.kind
    if kind == CONST:
        return f.const
    i = f.index + base
    v = t[i]
    if kind == INT:
        if v is None or (f.optional and v == f.null):
            return None
        return v
    if kind == ENUM:
        if v is None or (f.optional and v == f.null):
            return None
        return f.cls(v)
    if kind == FLOAT:
        if v is None or (f.optional and (v != v if f.null != f.null else v == f.null)):
            return None
        return v
    if kind == CHARS:
        if v is None:
            return None
        s = v.rstrip(b"\0").decode(f.codec, "surrogateescape")
        return None if f.optional and not s else s
    if kind == BYTES:
        return v
    if kind == SET:
        return None if v is None else f.cls(v)
    if kind == ARRAY:
        vals = t[i : i + f.nvals]
        return None if vals[0] is None else vals
    if kind == FLAT:
        vals = t[i : i + f.nvals]
        return None if vals[0] is None else _tnew(f.cls, vals)
    if kind == OPAQUE:
        return None if v is None else f.cls._from_wire(v)
    raise AssertionError(kind)


def _plain(value: object) -> object:
    """to_dict form of a decoded value: enums by name (raw int when unknown), sets and composites as dicts."""
    if isinstance(value, SbeEnum):
        return int(value) if value.is_unknown else value.name
    if isinstance(value, SbeSet):
        return value.to_dict()
    if isinstance(value, (_FlatComposite, _OpaqueComposite)):
        return value.to_dict()
    if isinstance(value, GroupView):
        return value.to_list()
    if isinstance(value, tuple):
        return list(value)
    return value


def _view_to_dict(view: _View, meta: _Block) -> dict[str, object]:
    out: dict[str, object] = {}
    values, base = view._v, view._B
    for f in meta.fields:
        out[f.name] = _plain(_get(f, values, base))
    for g in meta.groups:
        out[g.name] = getattr(view, g.name).to_list()
    for d in meta.data:
        out[d.name] = getattr(view, d.name)
    return out


def _view_repr(view: _View, name: str, meta: _Block) -> str:
    parts = [f"{f.name}={_get(f, view._v, view._B)!r}" for f in meta.fields]
    parts += [f"{g.name}=<{len(getattr(view, g.name))} entries>" for g in meta.groups]
    parts += [f"{d.name}={getattr(view, d.name)!r}" for d in meta.data]
    return f"{name}({', '.join(parts)})"


class _View:
    """Base of decoded message and group-entry views. `_v` is the tuple of wire values read with one
    unpack_from (kept as is: no copy); attributes convert on access. Layout of `_v`: a message view
    starts with one header slot (the raw header as one value on the fast path, the decoded header on
    the generic path), so its block starts at index `_B` = 1; an entry's block starts at 0. Then the
    block's values; then, when every group has fixed-size entries ("flat"), each group's dimension
    and entry values and each var data's length and bytes, exactly as on the wire; otherwise one
    GroupView per group, then (length, bytes) per var data. The generic path also sets `_m` =
    (header, length)."""

    __slots__ = ("_m", "_v")
    _META: _Block
    _B = 0  # index in `_v` of the block's first value
    _NV = 0  # number of wire values of the fixed block
    NAME = ""

    def _layout(self) -> tuple[int, int | None]:
        """(index in `_v` after the wire values, encoded length computed from them or None)."""
        return self._B + self._NV, None

    def to_dict(self) -> dict[str, object]:
        """Fields by name in schema order: enums by name, sets as {choice: bool}, composites as dicts,
        groups as lists of dicts, var data as str when it has a characterEncoding, else bytes."""
        return _view_to_dict(self, self._META)

    def __repr__(self) -> str:
        return _view_repr(self, self.NAME, self._META)

    def _key(self) -> tuple:
        return self._v[self._B : self._layout()[0]]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))


def _view_of(cls: type, values: tuple) -> _View:
    view = cls()  # views have no __init__: cheaper than object.__new__(cls)
    view._v = values
    return view


class MessageView(_View):
    """A decoded message (see _View for the layout)."""

    __slots__ = ()
    TEMPLATE_ID = 0
    BLOCK_LENGTH = 0
    SINCE_VERSION = 0
    _B = 1  # _v[0] is the header slot
    _HEADER: tuple = ()

    @property
    def header(self) -> tuple:
        """The header this message was decoded with (blockLength, templateId, schemaId, version)."""
        try:
            return self._m[0]
        except AttributeError:  # fast path: the header was exactly the class's
            return self._HEADER

    @property
    def acting_version(self) -> int:
        return self.header[_SCHEMA.header_fields[3]]

    @property
    def encoded_length(self) -> int:
        """Bytes the message occupies on the wire, header included."""
        try:
            return self._m[1]
        except AttributeError:
            pass
        length = self._layout()[1]
        if length is None:
            return _SCHEMA.header_struct.size + self.BLOCK_LENGTH
        return length


class GroupEntryView(_View):
    __slots__ = ()


class GroupView:
    """The entries of a decoded repeating group: a read-only sequence of entry views. Groups of flat
    entries read their values from the message view (`_flat` from `_start`) on first access."""

    __slots__ = ("_cls", "_flat", "_items", "_n", "_start")

    def __init__(self, cls: type, items: list | None, flat: tuple = (), n: int = 0, start: int = 0) -> None:
        self._cls, self._items, self._flat, self._start = cls, items, flat, start
        self._n = len(items) if items is not None else n

    def _entries(self) -> list:
        items = self._items
        if items is None:
            cls, flat, w, s = self._cls, self._flat, self._cls._NV, self._start
            items = self._items = [_view_of(cls, flat[i : i + w]) for i in range(s, s + self._n * w, w)]
        return items

    def __len__(self) -> int:
        return self._n

    def __iter__(self):
        return iter(self._entries())

    def __getitem__(self, i):
        return self._entries()[i]

    def __bool__(self) -> bool:
        return self._n > 0

    def rows(self) -> list[tuple]:
        """Each entry's fixed-block wire values as a plain tuple (no conversion)."""
        if self._items is None:
            flat, w, s = self._flat, self._cls._NV, self._start
            return [flat[i : i + w] for i in range(s, s + self._n * w, w)]
        return [e._v[: e._NV] for e in self._items]

    def to_list(self) -> list[dict[str, object]]:
        return [e.to_dict() for e in self._entries()]

    def to_numpy(self) -> np.ndarray:
        """The entries' fixed blocks as a structured array (a copy) of the entry class's BLOCK_DTYPE."""
        cls = self._cls
        raw = b"".join(cls._META.struct.pack(*r) for r in self.rows())
        return np.frombuffer(raw, dtype=cls.BLOCK_DTYPE, count=self._n).copy()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GroupView):
            return self._cls is other._cls and self._entries() == other._entries()
        if isinstance(other, (list, tuple)):
            return self._entries() == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._entries()))

    def __repr__(self) -> str:
        return f"GroupView({self._cls.__name__}, {self._entries()!r})"


def _group_view(cls: type, flat: tuple, start: int, n: int) -> GroupView:
    g = _onew(GroupView)
    g._cls = cls
    g._flat = flat
    g._start = start
    g._n = n
    g._items = None
    return g


class _FlatComposite(tuple):
    """A composite of plain numeric members: a tuple of its members' values in schema order."""

    __slots__ = ()
    _META: _Block
    NAME = ""

    def to_dict(self) -> dict[str, object]:
        return {f.name: _plain(_get(f, self)) for f in self._META.fields}

    def __repr__(self) -> str:
        return f"{self.NAME}({', '.join(f'{f.name}={_get(f, self)!r}' for f in self._META.fields)})"


class _OpaqueComposite:
    """A composite with members that need conversion (chars, constants, optional values...): keeps its
    wire bytes `_w`, packed once at construction, so encoding it costs nothing."""

    __slots__ = ("_v", "_w")
    _META: _Block
    NAME = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        meta = self._META
        values = _composite_values(meta, args, kwargs, self.NAME)
        wire: list = []
        for f, v in zip(meta.fields, values, strict=True):
            _put(f, v, wire, f"{self.NAME}.")
        self._v = tuple(wire)
        self._w = meta.struct.pack(*wire)

    @classmethod
    def _from_wire(cls, raw: bytes, acting_version: int | None = None):
        obj = _onew(cls)
        obj._w = raw
        vals = cls._META.struct.unpack(raw)
        if acting_version is not None and acting_version < cls._META.max_since:
            vals = _null_newer(cls._META, list(vals), acting_version, 1 << 62)
        obj._v = vals
        return obj

    def to_dict(self) -> dict[str, object]:
        return {f.name: _plain(_get(f, self._v)) for f in self._META.fields}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._w == other._w  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._w)

    def __repr__(self) -> str:
        return f"{self.NAME}({', '.join(f'{f.name}={_get(f, self._v)!r}' for f in self._META.fields)})"


def _composite_values(meta: _Block, args: tuple, kwargs: dict, name: str) -> list:
    names = [f.name for f in meta.fields]
    if len(args) > len(names):
        raise EncodeError(f"{name}: {len(args)} positional values for {len(names)} members")
    values = list(args) + [MISSING] * (len(names) - len(args))
    for key, v in kwargs.items():
        if key not in names:
            raise EncodeError(f"{name}: unknown member {key!r} (members: {', '.join(names)})")
        i = names.index(key)
        if i < len(args):
            raise EncodeError(f"{name}: member {key!r} given twice")
        values[i] = v
    return values


# ---- encoding: user values to wire values -----------------------------------------------------------


def _int_value(f: _F, value: object, path: str) -> int:
    if not isinstance(value, int):
        raise EncodeError(f"{path}{f.name}: expected an integer, got {type(value).__name__} {value!r}")
    if not f.lo <= value <= f.hi:
        raise EncodeError(f"{path}{f.name}: {value} is out of range [{f.lo}, {f.hi}] of {f.prim}")
    return int(value)


def _float_value(f: _F, value: object, path: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise EncodeError(f"{path}{f.name}: expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if f.prim == "float" and math.isfinite(value) and abs(value) > 3.4028234663852886e38:
        raise EncodeError(f"{path}{f.name}: {value} does not fit a float32")
    return value


def _enum_value(f: _F, value: object, path: str) -> int:
    cls = f.cls
    if isinstance(value, cls):
        return int(value)
    if isinstance(value, str):
        try:
            return int(cls[value])
        except KeyError:
            if f.prim == "char" and len(value) == 1:
                return ord(value)
            raise EncodeError(
                f"{path}{f.name}: {value!r} is not a value of {cls.__name__} "
                f"({', '.join(cls._member_names_)})"
            ) from None
    if isinstance(value, int):  # a raw value (kept even when unknown, as decoding does)
        if not f.lo <= value <= f.hi:
            raise EncodeError(f"{path}{f.name}: {value} is out of range [{f.lo}, {f.hi}] of {f.prim}")
        return int(value)
    raise EncodeError(f"{path}{f.name}: expected a {cls.__name__} (member, name or int), got {value!r}")


def _set_value(f: _F, value: object, path: str) -> int:
    cls = f.cls
    if value is None:
        return 0
    if isinstance(value, int):
        if not 0 <= value <= f.hi:
            raise EncodeError(f"{path}{f.name}: {value} does not fit {f.prim}")
        return int(value)
    names: list[str]
    if isinstance(value, str):
        names = [value]
    elif isinstance(value, dict):
        bits = int(value.get("_unknownBits", 0) or 0)
        names = [k for k, on in value.items() if k != "_unknownBits" and on]
        return bits | _set_value(f, names, path)
    else:
        try:
            names = list(value)  # type: ignore[call-overload]
        except TypeError:
            raise EncodeError(f"{path}{f.name}: expected a {cls.__name__}, an int or choice names") from None
    out = 0
    for n in names:
        if isinstance(n, cls):
            out |= int(n)
            continue
        try:
            out |= int(cls[n])
        except (KeyError, TypeError):
            raise EncodeError(
                f"{path}{f.name}: {n!r} is not a choice of {cls.__name__} ({', '.join(cls._member_names_)})"
            ) from None
    return out


def _bytes_value(f: _F, value: object, path: str, codec: str | None) -> bytes:
    if isinstance(value, str):
        try:
            raw = value.encode(codec or "utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise EncodeError(
                f"{path}{f.name}: {value!r} cannot be encoded as {codec}: {exc.reason}"
            ) from None
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    else:
        raise EncodeError(f"{path}{f.name}: expected str or bytes, got {type(value).__name__}")
    if len(raw) > f.length:
        raise EncodeError(f"{path}{f.name}: {len(raw)} bytes do not fit its {f.length} bytes")
    return raw


def _put(f: _F, value: object, out: list, path: str) -> None:
    """Appends the wire values of field `f` given the user's value; raises EncodeError naming the field."""
    kind = f.kind
    if kind == CONST:
        if value is not None and value is not MISSING and value != f.const and _plain(f.const) != value:
            raise EncodeError(f"{path}{f.name}: is the constant {f.const!r}, got {value!r}")
        return
    if value is MISSING:
        if not f.optional and kind not in (SET, BYTES):
            raise EncodeError(f"{path}{f.name}: required value missing")
        value = None
    if value is None:
        if kind == SET:
            out.append(0)
        elif kind == BYTES or (kind == CHARS and f.optional):
            out.append(b"")
        elif kind == FLAT:  # a composite's null: each member's null (required members refuse it)
            for m in f.cls._META.fields:
                _put(m, None, out, f"{path}{f.name}.")
        elif kind == OPAQUE:
            try:
                out.append(f.cls(*[None] * len(f.cls._META.fields))._w)
            except EncodeError as exc:
                raise EncodeError(f"{path}{f.name}: no null value ({exc})") from None
        elif not f.optional:
            raise EncodeError(f"{path}{f.name}: required value missing (None)")
        elif kind == ARRAY:
            out.extend([f.null] * f.nvals)
        else:
            out.append(f.null)
        return
    if kind == INT:
        out.append(_int_value(f, value, path))
    elif kind == ENUM:
        out.append(_enum_value(f, value, path))
    elif kind == FLOAT:
        out.append(_float_value(f, value, path))
    elif kind == SET:
        out.append(_set_value(f, value, path))
    elif kind == CHARS:
        out.append(_bytes_value(f, value, path, f.codec))
    elif kind == BYTES:
        out.append(_bytes_value(f, value, path, None))
    elif kind == ARRAY:
        try:
            items = list(value)  # type: ignore[call-overload]
        except TypeError:
            raise EncodeError(f"{path}{f.name}: expected a sequence of {f.nvals} values") from None
        if len(items) != f.nvals:
            raise EncodeError(f"{path}{f.name}: expected {f.nvals} values, got {len(items)}")
        conv = _float_value if f.prim in ("float", "double") else _int_value
        out.extend(conv(f, v, f"{path}{f.name}[]") for v in items)
    elif kind == FLAT:
        meta = f.cls._META
        for m, v in zip(meta.fields, _member_values(meta, value, f"{path}{f.name}"), strict=True):
            _put(m, v, out, f"{path}{f.name}.")
    elif kind == OPAQUE:
        cls = f.cls
        if type(value) is not cls:
            if isinstance(value, dict):
                value = cls(**value)
            elif isinstance(value, (tuple, list)):
                value = cls(*value)
            else:
                raise EncodeError(
                    f"{path}{f.name}: expected a {cls.__name__}, a tuple or a dict, got {value!r}"
                )
        out.append(value._w)  # type: ignore[attr-defined]
    else:
        raise AssertionError(kind)


def _member_values(meta: _Block, value: object, path: str) -> list:
    if isinstance(value, dict):
        unknown = set(value) - set(meta.names)
        if unknown:
            raise EncodeError(
                f"{path}: unknown member(s) {sorted(unknown)} (members: {', '.join(meta.names)})"
            )
        return [value.get(n, MISSING) for n in meta.names]
    if isinstance(value, (tuple, list)):
        if len(value) != len(meta.names):
            raise EncodeError(
                f"{path}: expected {len(meta.names)} values ({', '.join(meta.names)}), got {len(value)}"
            )
        if isinstance(value, _FlatComposite):
            return [_get(m, value) for m in meta.fields]
        return list(value)
    raise EncodeError(
        f"{path}: expected a tuple or dict of {', '.join(meta.names)}, got {type(value).__name__}"
    )


def _entry_values(g: _G, entry: object, path: str) -> list:
    meta = g.block
    names = meta.names
    if isinstance(entry, _View):
        return [getattr(entry, n) for n in names]
    if isinstance(entry, dict):
        unknown = set(entry) - set(names)
        if unknown:
            raise EncodeError(f"{path}: unknown name(s) {sorted(unknown)} (entry has: {', '.join(names)})")
        return [entry.get(n, MISSING) for n in names]
    if isinstance(entry, (tuple, list)):
        if len(entry) > len(names):
            raise EncodeError(
                f"{path}: {len(entry)} values for an entry of {len(names)} ({', '.join(names)})"
            )
        return list(entry) + [MISSING] * (len(names) - len(entry))
    raise EncodeError(
        f"{path}: an entry must be a tuple, a dict or a decoded entry, got {type(entry).__name__}"
    )


def _data_value(d: _D, value: object, path: str) -> bytes:
    if value is None or value is MISSING:
        return b""
    if isinstance(value, str):
        try:
            raw = value.encode(d.codec or "utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise EncodeError(
                f"{path}{d.name}: {value!r} cannot be encoded as {d.codec}: {exc.reason}"
            ) from None
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    else:
        raise EncodeError(f"{path}{d.name}: expected str or bytes, got {type(value).__name__}")
    if len(raw) > d.max_len:
        raise EncodeError(f"{path}{d.name}: {len(raw)} bytes exceed the maximum length {d.max_len}")
    return raw


def _encode_block(meta: _Block, values: list | tuple, path: str, out: list) -> None:
    """Appends the encoded block, its groups and var data to `out` (a list of bytes)."""
    fields = meta.fields
    wire: list = []
    for i, f in enumerate(fields):
        _put(f, values[i], wire, path)
    try:
        out.append(meta.struct.pack(*wire))
    except _struct_error as exc:  # a value the checks above let through: name the block at least
        raise EncodeError(f"{path or meta.name}: {exc}") from None
    k = len(fields)
    for g in meta.groups:
        entries = values[k]
        k += 1
        if entries is None or entries is MISSING:
            entries = ()
        try:
            entries = list(entries)  # type: ignore[call-overload]
        except TypeError:
            raise EncodeError(
                f"{path}{g.name}: expected a sequence of entries, got {type(entries).__name__}"
            ) from None
        if len(entries) > g.max_count:
            raise EncodeError(f"{path}{g.name}: {len(entries)} entries exceed the maximum {g.max_count}")
        dim = [0] * g.dim_nvals
        dim[g.bl_index] = g.block.size
        dim[g.n_index] = len(entries)
        out.append(g.dim_struct.pack(*dim))
        for j, entry in enumerate(entries):
            epath = f"{path}{g.name}[{j}]"
            _encode_block(g.block, _entry_values(g, entry, epath), epath + ".", out)
    for d in meta.data:
        raw = _data_value(d, values[k], path)
        k += 1
        out.append(d.len_struct.pack(len(raw)))
        out.append(raw)


def _encode_message_bytes(cls: type, values: list | tuple) -> bytes:
    info = _SCHEMA
    hdr = [0] * info.header_nvals
    bl_i, tid_i, sid_i, ver_i = info.header_fields
    hdr[bl_i], hdr[tid_i], hdr[sid_i], hdr[ver_i] = cls.BLOCK_LENGTH, cls.TEMPLATE_ID, info.id, info.version
    out = [info.header_struct.pack(*hdr)]
    _encode_block(cls._META, values, f"{cls.NAME}.", out)
    return b"".join(out)


_tls = threading.local()  # per-thread scratch buffer of encode_bytes


def _encode_bytes(cls: type, args: tuple, kwargs: dict) -> bytes:
    """encode_bytes: the fast encoder into a per-thread scratch buffer, then a copy of the bytes."""
    try:
        buf = _tls.buf
    except AttributeError:
        buf = _tls.buf = bytearray(1 << 16)
    try:
        n = cls.encode(buf, 0, *args, **kwargs)
    except (TypeError, BufferTooSmallError):  # names encode cannot bind (keywords), or a very large message
        return _encode_message_bytes(cls, _call_values(cls, args, kwargs))
    return bytes(memoryview(buf)[:n])


def _write(buffer: object, offset: int, raw: bytes, what: str) -> int:
    try:
        mv = memoryview(buffer)  # type: ignore[arg-type]
    except TypeError:
        raise EncodeError(
            f"{what}: the buffer must support the buffer protocol, got {type(buffer).__name__}"
        ) from None
    if mv.readonly:
        raise EncodeError(f"{what}: the buffer is read-only")
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    if offset < 0 or offset + len(raw) > mv.nbytes:
        raise BufferTooSmallError(
            f"{what}: needs {len(raw)} bytes at offset {offset}, the buffer has {max(mv.nbytes - offset, 0)}"
        )
    mv[offset : offset + len(raw)] = raw
    return len(raw)


def _encode_generic(cls: type, buffer: object, offset: int, values: tuple) -> int:
    CODEC_STATS["encode_fallbacks"] += 1
    return _write(buffer, _checked_offset(offset), _encode_message_bytes(cls, values), cls.NAME)


# ---- decoding: the generic path (any acting version, precise truncation errors) ---------------------


def _null_newer(meta: _Block, vals: list, acting_version: int, acting_bl: int) -> tuple:
    for f in meta.fields:
        if f.nvals and (f.since > acting_version or f.end > acting_bl):
            vals[f.index : f.index + f.nvals] = [None] * f.nvals
    return tuple(vals)


def _decode_block(meta: _Block, mv: memoryview, pos: int, acting_bl: int, acting_version: int, path: str):
    """Decodes a block with its groups and var data into the view layout; returns (values, end position)."""
    limit = mv.nbytes
    if pos + acting_bl > limit:
        raise TruncatedMessageError(f"{path} block", pos, acting_bl, limit - pos)
    size = meta.size
    if acting_bl >= size and acting_version >= meta.max_since:
        vals: tuple = meta.struct.unpack_from(mv, pos)
    else:
        raw = bytes(mv[pos : pos + min(acting_bl, size)]) + bytes(max(0, size - acting_bl))
        vals = _null_newer(meta, list(meta.struct.unpack(raw)), acting_version, acting_bl)
    pos += acting_bl
    if not meta.groups and not meta.data:
        return vals, pos
    parts = list(vals)
    for g in meta.groups:
        if g.since > acting_version:  # not in this version: an empty group
            if meta.flat:
                parts += [0] * g.dim_nvals
            else:
                parts.append(GroupView(g.cls, []))
            continue
        ds = g.dim_struct
        if pos + ds.size > limit:
            raise TruncatedMessageError(f"{path}.{g.name} dimension", pos, ds.size, limit - pos)
        dim = ds.unpack_from(mv, pos)
        pos += ds.size
        bl, n = dim[g.bl_index], dim[g.n_index]
        if n > g.max_count:
            raise MalformedMessageError(
                f"{path}.{g.name} at offset {pos - ds.size}: count {n} exceeds the maximum {g.max_count}"
            )
        if meta.flat:
            if pos + bl * n > limit:
                raise TruncatedMessageError(
                    f"{path}.{g.name} ({n} entries of {bl} bytes)", pos, bl * n, limit - pos
                )
            parts += dim
            for j in range(n):
                evals, pos = _decode_block(g.block, mv, pos, bl, acting_version, f"{path}.{g.name}[{j}]")
                parts += evals
        else:
            items = []
            for j in range(n):
                evals, pos = _decode_block(g.block, mv, pos, bl, acting_version, f"{path}.{g.name}[{j}]")
                items.append(_view_of(g.cls, evals))
            parts.append(GroupView(g.cls, items))
    for d in meta.data:
        if d.since > acting_version:  # not in this version: absent
            parts += (0, None)
            continue
        ls = d.len_struct
        if pos + ls.size > limit:
            raise TruncatedMessageError(f"{path}.{d.name} length", pos, ls.size, limit - pos)
        n = ls.unpack_from(mv, pos)[0]
        pos += ls.size
        if pos + n > limit:
            raise TruncatedMessageError(f"{path}.{d.name} ({n} bytes)", pos, n, limit - pos)
        parts += (n, bytes(mv[pos : pos + n]))
        pos += n
    return tuple(parts), pos


def _byte_view(buffer: object) -> memoryview:
    mv = memoryview(buffer)  # type: ignore[arg-type]
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    return mv


def _decode_header_at(mv: memoryview, offset: int) -> tuple:
    hs = _SCHEMA.header_struct
    if not isinstance(offset, int) or offset < 0:
        raise SbeError(f"offset must be a non-negative int, got {offset!r}")
    if offset + hs.size > mv.nbytes:
        raise TruncatedMessageError("message header", offset, hs.size, mv.nbytes - offset)
    return _tnew(_SCHEMA.header_cls, hs.unpack_from(mv, offset))


def _decode_generic(buffer: object, offset: int = 0) -> MessageView:
    CODEC_STATS["decode_fallbacks"] += 1
    info = _SCHEMA
    mv = _byte_view(buffer)
    hdr = _decode_header_at(mv, offset)
    bl_i, tid_i, sid_i, ver_i = info.header_fields
    if hdr[sid_i] != info.id:
        raise SchemaMismatchError(hdr, info.id, offset)
    cls = info.messages.get(hdr[tid_i])
    if cls is None:
        raise UnknownTemplateError(hdr, offset)
    pos = offset + info.header_struct.size
    vals, end = _decode_block(cls._META, mv, pos, hdr[bl_i], hdr[ver_i], cls.NAME)
    view = _view_of(cls, (hdr, *vals))
    view._m = (hdr, end - offset)
    return view


class _Fallback(Exception):
    """Raised inside a fast path to hand the call over to the generic path."""


def _remember(cache: dict, key: object, value: object, cacheable: bool = True) -> object:
    """Caches what was built for one message shape (group counts, var data lengths). The cache is
    bounded: shapes vary with the data; very large groups are not cached at all."""
    if cacheable:
        if len(cache) >= 512:
            cache.clear()
        cache[key] = value
    return value


def _decode_spec(cls: type, key: object, fmt: str, checks: list, slot: int) -> tuple:
    """What the fast decode of one message shape needs: (unpack_from of the whole message from its
    header on (the raw header as one value into the view's header slot, then block, groups and var
    data), raw header key, index and expected value of the last check or None, (getter, expected
    values) of the other checks or None, view class, bytes the shape occupies, its message's slot in
    `_DIRECT`). `checks` lists (index in the unpacked tuple, expected value) of every group
    blockLength and count and var data length: the shape's struct is right for a buffer only when
    the header and all of them read back as expected (a fixed-size message has none)."""
    s = _Struct(fmt)
    unpack, size = s.unpack_from, s.size
    if not checks:
        return (unpack, key, 0, None, None, cls, size, slot)
    *others, (index, value) = checks
    if not others:
        return (unpack, key, index, value, None, cls, size, slot)
    if len(others) == 1:
        return (unpack, key, index, value, (_ig(others[0][0]), others[0][1]), cls, size, slot)
    more = (_ig(*[i for i, _ in others]), tuple([v for _, v in others]))
    return (unpack, key, index, value, more, cls, size, slot)


CHUNK_VALUES = 28  # values per pack_into call: with buffer and offset, at most 30 arguments
UNROLL_MAX_VALUES = 2048  # entry values of the largest shape given its own unrolled encoder


def _shape_encoder(cache: dict, key: object, order: str, groups: list, data: list, cacheable: bool):
    """The encoder of one message shape's groups and var data (see _unrolled_encoder), cached.
    Shapes too large to unroll get a loop; shapes too large to cache are made for the call."""
    if sum(width * count for _, _, _, width, count in groups) > UNROLL_MAX_VALUES:
        encoder = _looped_encoder(order, groups, data)
    else:
        encoder = _unrolled_encoder(order, groups, data)
    return _remember(cache, key, encoder, cacheable)


def _chunked_calls(order: str, segments: list, env: dict, offset: str) -> tuple[list[str], int]:
    """Source lines packing `segments` ((struct codes, [value expressions]) in wire order) from
    `offset` with direct pack_into calls of at most CHUNK_VALUES values each, the last bytes first:
    CPython passes up to 30 arguments directly but builds a list for more, one append per value,
    which costs more than the extra calls. Writing the end first checks the room for everything
    before a byte is written. Returns (lines, bytes packed); the structs go to `env`."""
    chunks: list[list] = []
    count = CHUNK_VALUES + 1
    for fmt, vals in segments:
        if count + len(vals) > CHUNK_VALUES:
            chunks.append([])
            count = 0
        chunks[-1].append((fmt, vals))
        count += len(vals)
    calls = []
    pos = 0
    for i, chunk in enumerate(chunks):
        s = _Struct(order + "".join(fmt for fmt, _ in chunk))
        env[f"p{i}"] = s.pack_into
        args = ["b", f"{offset} + {pos}", *[v for _, vals in chunk for v in vals]]
        call = f"p{i}({', '.join(args)})" if len(args) <= 30 else f"p{i}(*[{', '.join(args)}])"
        calls.append(f"    {call}\n")
        pos += s.size
    return calls[::-1], pos


def _unrolled_encoder(order: str, groups: list, data: list):
    """encode(buffer, offset, each group's entries..., each var data's bytes) -> bytes written: the
    groups and var data of one message shape, packed from `offset` (the end of the block). `groups`
    lists (dimension codes, dimension values, entry codes, values per entry, count), `data` (length
    code, length). Unpacking each group into one name per value checks every entry's length exactly
    and is much cheaper than a loop appending the entries one by one. The source holds generated
    names, struct codes and integers only."""
    params, body, segments = ["b", "o"], [], []
    for j, (dim_fmt, dim, entry_fmt, width, count) in enumerate(groups):
        rows = [[f"v{j}_{i}_{k}" for k in range(width)] for i in range(count)]
        target = ", ".join(f"({', '.join(r)},)" for r in rows) + "," if rows else "[]"
        params.append(f"g{j}")
        body.append(f"    {target} = g{j}\n")
        segments.append((dim_fmt, [str(v) for v in dim]))
        segments += [(entry_fmt, r) for r in rows]
    for j, (len_code, length) in enumerate(data):
        params.append(f"d{j}")
        segments.append((f"{len_code}{length}s", [str(length), f"d{j}"]))
    env: dict = {}
    calls, size = _chunked_calls(order, segments, env, "o")
    src = f"def encode({', '.join(params)}):\n{''.join(body)}{''.join(calls)}    return {size}\n"
    ns: dict = {}
    exec(compile(src, "<sbe shape encoder>", "exec"), env, ns)
    return ns["encode"]


def _looped_encoder(order: str, groups: list, data: list):
    """The same as _unrolled_encoder for shapes too large to unroll: a loop over the entries."""
    fmt = order
    for dim_fmt, _dim, entry_fmt, _width, count in groups:
        fmt += dim_fmt + entry_fmt * count
    for len_code, length in data:
        fmt += f"{len_code}{length}s"
    s = _Struct(fmt)
    pack_into, size = s.pack_into, s.size

    def encode(b, o, *args):
        a = [b, o]
        for (_, dim, _, width, _), entries in zip(groups, args, strict=False):
            a += dim
            for e in entries:
                if len(e) != width:
                    raise _Fallback
                a += e
        for (_, length), d in zip(data, args[len(groups) :], strict=True):
            a += (length, d)
        pack_into(*a)
        return size

    return encode


def _call_values(cls: type, args: tuple, kwargs: dict) -> list:
    """Arguments of encode/encode_bytes, positional or by name (schema name or Python parameter name)."""
    params, names = cls._PARAMS, cls._META.names
    if len(args) > len(params):
        raise EncodeError(f"{cls.NAME}: {len(args)} positional values for {len(params)} fields")
    values = list(args) + [MISSING] * (len(params) - len(args))
    for key, v in kwargs.items():
        if key in params:
            i = params.index(key)
        elif key in names:
            i = names.index(key)
        else:
            raise EncodeError(f"{cls.NAME}: unknown field {key!r} (fields: {', '.join(names)})")
        if i < len(args):
            raise EncodeError(f"{cls.NAME}: field {key!r} given twice")
        values[i] = v
    return values


def _checked_offset(offset: object) -> int:
    if not isinstance(offset, int) or offset < 0:
        raise EncodeError(f"offset must be a non-negative int, got {offset!r}")
    return offset


# ---- end of runtime ----
