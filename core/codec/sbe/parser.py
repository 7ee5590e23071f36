"""Reads an SBE 1.0 XML message schema into the resolved, laid-out model of `ir`.

Every problem is collected with its line and element (see `diagnostics`), so one run reports all of
them. Accepts the standard namespace, the pre-standard `http://www.fixprotocol.org/ns/simple/...`
namespaces and attributes of foreign namespaces (vendor extensions), which are ignored here.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from lxml import etree

from core.codec.sbe.diagnostics import Collector, Issue, SchemaError
from core.codec.sbe.ir import (
    Choice,
    CompositeType,
    EncodedType,
    EnumType,
    Field,
    Group,
    Member,
    Message,
    Presence,
    Schema,
    SetType,
    Type,
    ValidValue,
    VarData,
)
from core.codec.sbe.primitives import PRIMITIVES, Primitive, parse_number

SBE_NS = "http://fixprotocol.io/2016/sbe"
PRE_STANDARD_NS_PREFIX = "http://www.fixprotocol.org/ns/simple/"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HEADER_MEMBERS = ("blockLength", "templateId", "schemaId", "version")


def is_sbe_namespace(ns: str | None) -> bool:
    return not ns or ns == SBE_NS or ns.startswith(PRE_STANDARD_NS_PREFIX)


def describe(el: etree._Element) -> str:
    """'<field name="price">' for diagnostics."""
    if not isinstance(el.tag, str):
        return ""
    tag = etree.QName(el).localname
    name = el.get("name")
    return f'<{tag} name="{name}">' if name else f"<{tag}>"


def read_xml(source: str | Path | bytes) -> etree._ElementTree:
    """Parses the XML (raising SchemaError with the line on malformed XML) and resolves XInclude."""
    parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True)
    try:
        if isinstance(source, bytes):
            tree = etree.ElementTree(etree.fromstring(source, parser))
        else:
            tree = etree.parse(str(source), parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise SchemaError([Issue("error", line, "", f"malformed XML: {exc.msg}")], str(source)) from exc
    except OSError as exc:
        raise SchemaError([Issue("error", None, "", f"cannot read schema: {exc}")], str(source)) from exc
    if tree.getroot().xpath(
        "//*[local-name()='include' and namespace-uri()='http://www.w3.org/2001/XInclude']"
    ):
        tree.xinclude()
    return tree


def parse_schema(source: str | Path | bytes, collector: Collector | None = None) -> Schema:
    """Parses and resolves a schema file (or XML bytes). Raises SchemaError listing every error found."""
    col = collector or Collector()
    tree = read_xml(source)
    schema = SchemaParser(tree.getroot(), col).parse()
    if col.has_errors or schema is None:
        raise SchemaError(col.issues, "" if isinstance(source, bytes) else str(source))
    return schema


def _children(el: etree._Element, *names: str) -> list[etree._Element]:
    out = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        q = etree.QName(child)
        if is_sbe_namespace(q.namespace) and (not names or q.localname in names):
            out.append(child)
    return out


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


class SchemaParser:
    def __init__(self, root: etree._Element, col: Collector) -> None:
        self.root = root
        self.col = col
        self.raw_types: dict[str, etree._Element] = {}
        self.types: dict[str, Type] = {}
        self.resolving: set[str] = set()
        self.version = 0

    # ---- attribute helpers -------------------------------------------------------------------------

    def _int_attr(self, el: etree._Element, attr: str, default: int | None = None, lo: int = 0) -> int | None:
        raw = el.get(attr)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            self.col.error(el.sourceline, describe(el), f"{attr}={raw!r} is not an integer")
            return default
        if value < lo:
            self.col.error(el.sourceline, describe(el), f"{attr}={value} must be >= {lo}")
            return default
        return value

    def _name(self, el: etree._Element) -> str:
        name = el.get("name")
        if not name:
            self.col.error(el.sourceline, describe(el), "missing required attribute 'name'")
            return f"_unnamed_line{el.sourceline}"
        if not NAME_RE.match(name):
            self.col.error(el.sourceline, describe(el), f"name {name!r} is not a valid symbolic name")
        return name

    def _since(self, el: etree._Element) -> int:
        since = self._int_attr(el, "sinceVersion", 0) or 0
        if since > self.version:
            self.col.error(
                el.sourceline,
                describe(el),
                f"sinceVersion={since} is above the schema version {self.version}",
            )
        return since

    def _encoding(self, el: etree._Element, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            return codecs.lookup(name).name
        except LookupError:
            self.col.error(el.sourceline, describe(el), f"unknown characterEncoding {name!r}")
            return None

    # ---- schema ------------------------------------------------------------------------------------

    def parse(self) -> Schema | None:
        root = self.root
        q = etree.QName(root)
        if q.localname != "messageSchema":
            self.col.error(root.sourceline, describe(root), "root element must be messageSchema")
            return None
        if q.namespace and q.namespace.startswith(PRE_STANDARD_NS_PREFIX):
            self.col.note(
                root.sourceline, "<messageSchema>", f"pre-standard SBE namespace {q.namespace} accepted"
            )
        elif q.namespace and q.namespace != SBE_NS:
            self.col.warning(root.sourceline, "<messageSchema>", f"unexpected namespace {q.namespace}")
        version = self._int_attr(root, "version", None)
        if version is None:
            self.col.error(root.sourceline, "<messageSchema>", "missing required attribute 'version'")
            version = 0
        self.version = version
        schema_id = self._int_attr(root, "id", 0) or 0
        if schema_id > 0xFFFF:
            self.col.error(root.sourceline, "<messageSchema>", f"id={schema_id} does not fit uint16")
        byte_order = root.get("byteOrder", "littleEndian")
        if byte_order not in ("littleEndian", "bigEndian"):
            self.col.error(root.sourceline, "<messageSchema>", f"byteOrder={byte_order!r} is not valid")
            byte_order = "littleEndian"
        package = root.get("package") or "sbe"

        types_elements = _children(root, "types")
        if not types_elements:
            self.col.error(root.sourceline, "<messageSchema>", "no <types> element")
        for types_el in types_elements:
            for el in _children(types_el):
                if _local(el) not in ("type", "composite", "enum", "set"):
                    self.col.error(el.sourceline, describe(el), "unexpected element inside <types>")
                    continue
                name = self._name(el)
                if name in self.raw_types or name in PRIMITIVES:
                    first = self.raw_types.get(name)
                    where = f" (first defined on line {first.sourceline})" if first is not None else ""
                    self.col.error(el.sourceline, describe(el), f"duplicate type name {name!r}{where}")
                    continue
                self.raw_types[name] = el
        for name in self.raw_types:
            self.resolve(name, None, "")

        header_name = root.get("headerType", "messageHeader")
        header = self._header(header_name)
        messages = self._messages(header)
        if header is None:
            return None
        return Schema(
            package=package,
            id=schema_id,
            version=version,
            byte_order=byte_order,  # type: ignore[arg-type]
            header=header,
            types=self.types,
            messages=messages,
            semantic_version=root.get("semanticVersion"),
            description=root.get("description"),
            namespace=q.namespace or "",
        )

    def _header(self, name: str) -> CompositeType | None:
        t = self.types.get(name)
        if not isinstance(t, CompositeType):
            self.col.error(
                self.root.sourceline,
                "<messageSchema>",
                f"headerType {name!r} is not a composite under <types>",
            )
            return None
        for member in HEADER_MEMBERS:
            m = t.member(member)
            if m is None:
                self.col.error(
                    t.line, f'<composite name="{name}">', f"message header has no {member!r} member"
                )
            elif not (
                isinstance(m.type, EncodedType)
                and not m.type.primitive.signed
                and not m.type.primitive.is_float
                and not m.type.primitive.is_char
                and m.type.length == 1
                and m.type.presence != "constant"
            ):
                self.col.error(
                    m.line, f'<composite name="{name}">', f"header member {member!r} must be an unsigned int"
                )
        return t

    # ---- types -------------------------------------------------------------------------------------

    def resolve(self, name: str, line: int | None, element: str) -> Type | None:
        """The type named `name` (a type under <types> or a primitive name), parsing it on first use."""
        if name in self.types:
            return self.types[name]
        el = self.raw_types.get(name)
        if el is None:
            prim = PRIMITIVES.get(name)
            if prim is not None:
                return EncodedType(name=name, primitive=prim)
            self.col.error(line, element, f"unknown type {name!r}")
            return None
        if name in self.resolving:
            self.col.error(el.sourceline, describe(el), f"type {name!r} refers to itself")
            return None
        self.resolving.add(name)
        try:
            t = self._parse_type_element(el)
        finally:
            self.resolving.discard(name)
        if t is not None:
            self.types[name] = t
        return t

    def _parse_type_element(self, el: etree._Element) -> Type | None:
        kind = _local(el)
        if kind == "type":
            return self._encoded_type(el)
        if kind == "composite":
            return self._composite(el)
        if kind == "enum":
            return self._enum(el)
        if kind == "set":
            return self._set(el)
        self.col.error(el.sourceline, describe(el), "unexpected element")
        return None

    def _encoded_type(self, el: etree._Element) -> EncodedType | None:
        name = self._name(el)
        desc = describe(el)
        prim_name = el.get("primitiveType")
        prim = PRIMITIVES.get(prim_name or "")
        if prim is None:
            self.col.error(el.sourceline, desc, f"unknown primitiveType {prim_name!r}")
            return None
        presence = el.get("presence", "required")
        if presence not in ("required", "optional", "constant"):
            self.col.error(el.sourceline, desc, f"presence={presence!r} is not valid")
            presence = "required"
        length = self._int_attr(el, "length", 1)
        t = EncodedType(
            name=name,
            primitive=prim,
            length=1 if length is None else length,
            presence=presence,  # type: ignore[arg-type]
            character_encoding=self._encoding(el, el.get("characterEncoding")),
            since_version=self._since(el),
            deprecated=self._int_attr(el, "deprecated", None),
            offset=self._int_attr(el, "offset", None),
            semantic_type=el.get("semanticType"),
            description=el.get("description"),
            line=el.sourceline,
        )
        for attr in ("nullValue", "minValue", "maxValue"):
            raw = el.get(attr)
            if raw is None:
                continue
            try:
                value = parse_number(prim, raw)
            except ValueError:
                self.col.error(el.sourceline, desc, f"{attr}={raw!r} is not a valid {prim.name}")
                continue
            if not prim.is_float and not (prim.wire_min <= value <= prim.wire_max):
                self.col.error(el.sourceline, desc, f"{attr}={raw} does not fit {prim.name}")
                continue
            setattr(
                t, {"nullValue": "null_value", "minValue": "min_value", "maxValue": "max_value"}[attr], value
            )
        if presence == "constant":
            text = (el.text or "").strip()
            if not text:
                self.col.error(el.sourceline, desc, "presence='constant' needs the constant value as text")
            elif prim.is_char:
                if el.get("length") is None:
                    t.length = len(text)
                elif len(text) > t.length:
                    self.col.error(el.sourceline, desc, f"constant {text!r} is longer than length={t.length}")
            else:
                try:
                    value = parse_number(prim, text)
                    if not prim.is_float and not (prim.wire_min <= value <= prim.wire_max):
                        raise ValueError
                except ValueError:
                    self.col.error(el.sourceline, desc, f"constant {text!r} is not a valid {prim.name}")
            t.constant = text
        if presence == "optional" and t.length != 1 and not prim.is_char and prim.name not in ("uint8",):
            self.col.note(el.sourceline, desc, "optional array: null only by its element values")
        if t.character_encoding and not (prim.is_char or prim.name == "uint8"):
            self.col.warning(
                el.sourceline, desc, "characterEncoding on a type that is neither char nor uint8"
            )
        return t

    def _integer_encoding(self, el: etree._Element, what: str) -> tuple[Primitive, int | float | None] | None:
        enc_name = el.get("encodingType")
        desc = describe(el)
        if not enc_name:
            self.col.error(el.sourceline, desc, f"{what} needs an encodingType")
            return None
        prim = PRIMITIVES.get(enc_name)
        null: int | float | None = None
        if prim is None:
            t = self.resolve(enc_name, el.sourceline, desc)
            if t is None:
                return None
            if not isinstance(t, EncodedType) or t.length != 1:
                self.col.error(
                    el.sourceline, desc, f"encodingType {enc_name!r} must be a single primitive type"
                )
                return None
            prim = t.primitive
            null = t.null_value
        if prim.is_float:
            self.col.error(el.sourceline, desc, f"encodingType {enc_name!r} of a {what} cannot be a float")
            return None
        return prim, null

    def _enum(self, el: etree._Element) -> EnumType | None:
        name = self._name(el)
        desc = describe(el)
        enc = self._integer_encoding(el, "enum")
        if enc is None:
            return None
        prim, null = enc
        values: list[ValidValue] = []
        seen_names: set[str] = set()
        seen_values: dict[int, str] = {}
        for vv in _children(el, "validValue"):
            vname = self._name(vv)
            text = (vv.text or "").strip()
            try:
                if prim.is_char:
                    if len(text) != 1:
                        raise ValueError
                    value = ord(text)
                else:
                    value = int(text, 0)
            except ValueError:
                self.col.error(vv.sourceline, describe(vv), f"value {text!r} is not a valid {prim.name}")
                continue
            if not (prim.wire_min <= value <= (0xFF if prim.is_char else prim.wire_max)):
                self.col.error(vv.sourceline, describe(vv), f"value {text!r} does not fit {prim.name}")
                continue
            if vname in seen_names:
                self.col.error(
                    vv.sourceline, describe(vv), f"duplicate validValue name {vname!r} in enum {name}"
                )
                continue
            if value in seen_values:
                self.col.error(
                    vv.sourceline,
                    describe(vv),
                    f"value {text!r} of {vname!r} repeats that of {seen_values[value]!r} in enum {name}",
                )
                continue
            seen_names.add(vname)
            seen_values[value] = vname
            values.append(ValidValue(vname, value, self._since(vv), vv.get("description")))
        if not values:
            self.col.error(el.sourceline, desc, "enum has no validValue")
        return EnumType(
            name=name,
            encoding=prim,
            values=values,
            null_value=null,
            since_version=self._since(el),
            offset=self._int_attr(el, "offset", None),
            description=el.get("description"),
            line=el.sourceline,
        )

    def _set(self, el: etree._Element) -> SetType | None:
        name = self._name(el)
        enc = self._integer_encoding(el, "set")
        if enc is None:
            return None
        prim, _ = enc
        if prim.signed or prim.is_char:
            self.col.error(
                el.sourceline, describe(el), "the encodingType of a set must be an unsigned integer"
            )
            return None
        choices: list[Choice] = []
        seen: dict[str, int] = {}
        bits: dict[int, str] = {}
        for ch in _children(el, "choice"):
            cname = self._name(ch)
            text = (ch.text or "").strip()
            try:
                bit = int(text)
            except ValueError:
                self.col.error(ch.sourceline, describe(ch), f"bit position {text!r} is not an integer")
                continue
            if not 0 <= bit < 8 * prim.size:
                self.col.error(ch.sourceline, describe(ch), f"bit {bit} does not fit {prim.name}")
                continue
            if cname in seen or bit in bits:
                self.col.error(
                    ch.sourceline, describe(ch), f"duplicate choice {cname!r} or bit {bit} in set {name}"
                )
                continue
            seen[cname] = bit
            bits[bit] = cname
            choices.append(Choice(cname, bit, self._since(ch), ch.get("description")))
        if not choices:
            self.col.error(el.sourceline, describe(el), "set has no choice")
        return SetType(
            name=name,
            encoding=prim,
            choices=choices,
            since_version=self._since(el),
            offset=self._int_attr(el, "offset", None),
            description=el.get("description"),
            line=el.sourceline,
        )

    def _composite(self, el: etree._Element) -> CompositeType | None:
        name = self._name(el)
        comp = CompositeType(
            name=name,
            since_version=self._since(el),
            offset=self._int_attr(el, "offset", None),
            description=el.get("description"),
            semantic_type=el.get("semanticType"),
            line=el.sourceline,
        )
        pos = 0
        names: set[str] = set()
        for child in _children(el):
            kind = _local(child)
            mdesc = describe(child)
            mtype: Type | None
            offset_attr = self._int_attr(child, "offset", None)
            if kind == "ref":
                mname = self._name(child)
                ref = child.get("type")
                if not ref:
                    self.col.error(child.sourceline, mdesc, "ref needs a 'type'")
                    continue
                mtype = self.resolve(ref, child.sourceline, mdesc)
            elif kind in ("type", "composite", "enum", "set"):
                mname = self._name(child)
                mtype = self._parse_type_element(child)
            else:
                self.col.error(child.sourceline, mdesc, "unexpected element inside a composite")
                continue
            if mtype is None:
                continue
            if mname in names:
                self.col.error(child.sourceline, mdesc, f"duplicate member {mname!r} in composite {name}")
                continue
            names.add(mname)
            if offset_attr is not None:
                if offset_attr < pos:
                    self.col.error(
                        child.sourceline,
                        mdesc,
                        f"offset={offset_attr} overlaps the previous member (ends at {pos})",
                    )
                else:
                    pos = offset_attr
            comp.members.append(Member(mname, mtype, pos, self._since(child), child.sourceline))
            pos += mtype.size
        if not comp.members:
            self.col.error(el.sourceline, describe(el), "composite has no members")
        comp.size = pos
        return comp

    # ---- messages ----------------------------------------------------------------------------------

    def _messages(self, header: CompositeType | None) -> list[Message]:
        messages: list[Message] = []
        ids: dict[int, str] = {}
        names: set[str] = set()
        tid_max = 0xFFFF
        if header is not None:
            m = header.member("templateId")
            if m is not None and isinstance(m.type, EncodedType):
                tid_max = m.type.primitive.wire_max  # type: ignore[assignment]
        found = _children(self.root, "message")
        if not found:
            self.col.error(self.root.sourceline, "<messageSchema>", "schema has no message")
        for el in found:
            name = self._name(el)
            mid = self._int_attr(el, "id", None)
            if mid is None:
                self.col.error(el.sourceline, describe(el), "missing required attribute 'id'")
                continue
            if mid > tid_max:
                self.col.error(el.sourceline, describe(el), f"id={mid} does not fit the header's templateId")
            if mid in ids:
                self.col.error(el.sourceline, describe(el), f"duplicate message id {mid} (also {ids[mid]})")
            if name in names:
                self.col.error(el.sourceline, describe(el), f"duplicate message name {name!r}")
            ids[mid] = name
            names.add(name)
            msg = Message(
                name=name,
                id=mid,
                since_version=self._since(el),
                deprecated=self._int_attr(el, "deprecated", None),
                semantic_type=el.get("semanticType"),
                description=el.get("description"),
                line=el.sourceline,
            )
            msg.fields, msg.groups, msg.data, msg.block_length = self._block(el, f"message {name}")
            messages.append(msg)
        return messages

    def _block(self, el: etree._Element, where: str) -> tuple[list[Field], list[Group], list[VarData], int]:
        fields: list[Field] = []
        groups: list[Group] = []
        data: list[VarData] = []
        names: dict[str, int | None] = {}
        ids: dict[int, str] = {}
        pos = 0
        for child in _children(el):
            kind = _local(child)
            desc = describe(child)
            if kind not in ("field", "group", "data"):
                self.col.error(child.sourceline, desc, f"unexpected element in {where}")
                continue
            name = self._name(child)
            if name in names:
                self.col.error(
                    child.sourceline, desc, f"duplicate name {name!r} in {where} (line {names[name]})"
                )
            names[name] = child.sourceline
            cid = self._int_attr(child, "id", None)
            if cid is None:
                self.col.error(child.sourceline, desc, "missing required attribute 'id'")
                cid = 0
            elif cid in ids:
                self.col.error(child.sourceline, desc, f"duplicate id {cid} in {where} (also {ids[cid]})")
            else:
                ids[cid] = name
            if kind == "field":
                if groups or data:
                    self.col.error(child.sourceline, desc, f"field after a group or var data in {where}")
                f = self._field(child, name, cid)
                if f is None:
                    continue
                if f.presence != "constant":
                    offset_attr = self._int_attr(child, "offset", None)
                    if offset_attr is not None:
                        if offset_attr < pos:
                            self.col.error(
                                child.sourceline,
                                desc,
                                f"offset={offset_attr} overlaps the previous field (ends at {pos})",
                            )
                        else:
                            pos = offset_attr
                    f.offset = pos
                    pos += f.size
                fields.append(f)
            elif kind == "group":
                if data:
                    self.col.error(
                        child.sourceline, desc, f"group after var data in {where}: var data must be last"
                    )
                g = self._group(child, name, cid, where)
                if g is not None:
                    groups.append(g)
            else:
                d = self._data(child, name, cid)
                if d is not None:
                    data.append(d)
        block_length = pos
        declared = self._int_attr(el, "blockLength", None)
        if declared is not None:
            if declared < pos:
                self.col.error(
                    el.sourceline,
                    describe(el),
                    f"blockLength={declared} is smaller than its fields need ({pos})",
                )
            else:
                block_length = declared
        return fields, groups, data, block_length

    def _field(self, el: etree._Element, name: str, fid: int) -> Field | None:
        desc = describe(el)
        type_name = el.get("type")
        if not type_name:
            self.col.error(el.sourceline, desc, "missing required attribute 'type'")
            return None
        t = self.resolve(type_name, el.sourceline, desc)
        if t is None:
            return None
        if isinstance(t, CompositeType) and _has_var_data(t):
            self.col.error(
                el.sourceline, desc, f"type {type_name!r} is variable-length: use <data>, not <field>"
            )
            return None
        if isinstance(t, EncodedType) and t.length == 0:
            self.col.error(el.sourceline, desc, f"type {type_name!r} has length 0 and cannot be a field")
            return None
        presence_attr = el.get("presence")
        if presence_attr not in (None, "required", "optional", "constant"):
            self.col.error(el.sourceline, desc, f"presence={presence_attr!r} is not valid")
            presence_attr = None
        f = Field(
            name=name,
            id=fid,
            type=t,
            since_version=self._since(el),
            deprecated=self._int_attr(el, "deprecated", None),
            semantic_type=el.get("semanticType"),
            description=el.get("description"),
            line=el.sourceline,
        )
        value_ref = el.get("valueRef")
        presence: Presence
        if presence_attr == "constant" or (isinstance(t, EncodedType) and t.presence == "constant"):
            presence = "constant"
            if value_ref:
                f.constant_ref = self._value_ref(el, value_ref, t)
            elif not (isinstance(t, EncodedType) and t.presence == "constant"):
                self.col.error(el.sourceline, desc, "presence='constant' needs a valueRef or a constant type")
        elif presence_attr == "optional" or (isinstance(t, EncodedType) and t.presence == "optional"):
            presence = "optional"
        else:
            presence = "required"
        if value_ref and presence != "constant":
            self.col.warning(el.sourceline, desc, "valueRef ignored on a field that is not constant")
        f.presence = presence
        if presence == "optional":
            if isinstance(t, (EncodedType, EnumType)):
                f.null_value = t.effective_null
            elif isinstance(t, SetType):
                self.col.warning(
                    el.sourceline, desc, "optional set: a set has no null value, empty means none"
                )
        return f

    def _value_ref(self, el: etree._Element, ref: str, t: Type) -> tuple[str, str] | None:
        desc = describe(el)
        if "." not in ref:
            self.col.error(el.sourceline, desc, f"valueRef {ref!r} must be EnumName.ValueName")
            return None
        enum_name, value_name = ref.split(".", 1)
        e = self.resolve(enum_name, el.sourceline, desc)
        if not isinstance(e, EnumType):
            self.col.error(el.sourceline, desc, f"valueRef {ref!r}: {enum_name!r} is not an enum")
            return None
        if e.value_of(value_name) is None:
            self.col.error(
                el.sourceline, desc, f"valueRef {ref!r}: enum {enum_name} has no value {value_name!r}"
            )
            return None
        if isinstance(t, EnumType) and t.name != e.name:
            self.col.error(
                el.sourceline, desc, f"valueRef {ref!r} names another enum than the field's {t.name}"
            )
            return None
        return enum_name, value_name

    def _group(self, el: etree._Element, name: str, gid: int, where: str) -> Group | None:
        desc = describe(el)
        dim_name = el.get("dimensionType", "groupSizeEncoding")
        dim = self.resolve(dim_name, el.sourceline, desc)
        if dim is None:
            return None
        if not isinstance(dim, CompositeType):
            self.col.error(el.sourceline, desc, f"dimensionType {dim_name!r} is not a composite")
            return None
        for member in ("blockLength", "numInGroup"):
            m = dim.member(member)
            if m is None or not (
                isinstance(m.type, EncodedType)
                and m.type.length == 1
                and not m.type.primitive.is_float
                and not m.type.primitive.is_char
                and not m.type.primitive.signed
            ):
                self.col.error(
                    dim.line,
                    f'<composite name="{dim_name}">',
                    f"group dimension needs an unsigned int {member!r}",
                )
                return None
        g = Group(
            name=name,
            id=gid,
            dimension=dim,
            since_version=self._since(el),
            deprecated=self._int_attr(el, "deprecated", None),
            description=el.get("description"),
            line=el.sourceline,
        )
        g.fields, g.groups, g.data, g.block_length = self._block(el, f"group {name} of {where}")
        bl_member = dim.member("blockLength")
        assert bl_member is not None and isinstance(bl_member.type, EncodedType)
        if g.block_length > bl_member.type.primitive.wire_max:
            self.col.error(
                el.sourceline, desc, f"block length {g.block_length} does not fit the dimension's blockLength"
            )
        return g

    def _data(self, el: etree._Element, name: str, did: int) -> VarData | None:
        desc = describe(el)
        type_name = el.get("type")
        if not type_name:
            self.col.error(el.sourceline, desc, "missing required attribute 'type'")
            return None
        t = self.resolve(type_name, el.sourceline, desc)
        if t is None:
            return None
        length = t.member("length") if isinstance(t, CompositeType) else None
        var = t.member("varData") if isinstance(t, CompositeType) else None
        if (
            not isinstance(t, CompositeType)
            or length is None
            or var is None
            or not isinstance(length.type, EncodedType)
            or not isinstance(var.type, EncodedType)
        ):
            self.col.error(
                el.sourceline, desc, f"type {type_name!r} of var data needs 'length' and 'varData' members"
            )
            return None
        lt, vt = length.type, var.type
        if lt.primitive.signed or lt.primitive.is_float or lt.primitive.is_char or lt.length != 1:
            self.col.error(
                lt.line, f'<composite name="{type_name}">', "var data 'length' must be an unsigned int"
            )
            return None
        if vt.length != 0:
            self.col.warning(
                vt.line, f'<composite name="{type_name}">', "var data 'varData' should have length=0"
            )
        if not (vt.primitive.is_char or vt.primitive.name in ("uint8", "int8")):
            self.col.error(
                vt.line, f'<composite name="{type_name}">', "var data 'varData' must be char or uint8"
            )
            return None
        if var.offset != length.offset + lt.size:
            self.col.error(
                vt.line, f'<composite name="{type_name}">', "'varData' must follow 'length' directly"
            )
        max_length = int(lt.max_value) if lt.max_value is not None else int(lt.primitive.max_value)
        encoding = vt.character_encoding  # str only with a characterEncoding; raw bytes otherwise
        return VarData(
            name=name,
            id=did,
            type=t,
            length=lt,
            character_encoding=encoding,
            max_length=max_length,
            since_version=self._since(el),
            deprecated=self._int_attr(el, "deprecated", None),
            description=el.get("description"),
            line=el.sourceline,
        )


def _has_var_data(t: CompositeType) -> bool:
    return any(isinstance(m.type, EncodedType) and m.type.length == 0 for m in t.members)
