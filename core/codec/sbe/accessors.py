"""Source of the read accessors (properties) of generated view classes, one per field kind.

Views are tuples of wire values; an accessor picks its value(s) by index and converts: optional
values equal to their null become None, enums become members (or UNKNOWN_<n> pseudo-members), chars
become str. A value that is None in the tuple (field absent at the acting version) reads as None.
"""

from __future__ import annotations

from core.codec.sbe.plan import BlockPlan, FieldPlan, literal


def _prop(name: str, body: list[str], doc: str | None) -> list[str]:
    lines = ["@property", f"def {name}(self):"]
    if doc:
        lines.append(f"    {_docstring(doc)}")
    return lines + [f"    {b}" for b in body]


def _docstring(text: str) -> str:
    clean = " ".join(text.split()).replace("\\", "\\\\").replace('"""', "'''")
    return f'"""{clean}"""'


def _getter(name: str, index: int, doc: str | None) -> list[str]:
    if doc:
        return [f"{name} = property(_ig({index}), doc={' '.join(doc.split())!r})"]
    return [f"{name} = property(_ig({index}))"]


def accessor(f: FieldPlan, src: str, base: int = 0) -> list[str]:
    """Lines of the class-body definition of field `f`, reading from `src` ('self' or 'self._v') whose
    block starts at index `base` (1 in message views: _v[0] is the header slot)."""
    name, i, doc = f.name, f.index + base, f.description
    kind = f.kind
    if kind == "const":
        return _prop(name, [f"return {f.const_expr}"], doc or "constant: not on the wire")
    if kind in ("int", "float", "bytes") and not (f.optional and kind != "bytes"):
        if src == "self":
            return _getter(name, i, doc)
        return _prop(name, [f"return {src}[{i}]"], doc)
    if kind in ("int", "float"):
        if isinstance(f.null, float) and f.null != f.null:  # NaN null
            test = "v != v"
        else:
            test = f"v == {literal(f.null)}"
        return _prop(name, [f"v = {src}[{i}]", f"return None if {test} else v"], doc)
    if kind == "chars":
        tail = "return s or None" if f.optional else "return s"
        return _prop(
            name,
            [
                f"v = {src}[{i}]",
                "if v is None:",
                "    return None",
                f's = v.rstrip(b"\\0").decode({f.codec!r}, "surrogateescape")',
                tail,
            ],
            doc,
        )
    if kind == "array":
        return _prop(name, [f"v = {src}[{i}:{i + f.nvals}]", "return None if v[0] is None else v"], doc)
    if kind == "enum":
        body = [f"v = {src}[{i}]"]
        if f.optional:
            body += [f"if v == {literal(f.null)}:", "    return None"]
        body += [f"m = _get_{f.cls}(v)", f"return m if m is not None else _enum_of({f.cls}, v)"]
        return _prop(name, body, doc)
    if kind == "set":
        return _prop(name, [f"v = {src}[{i}]", f"return None if v is None else {f.cls}(v)"], doc)
    if kind == "flat":
        return _prop(
            name,
            [f"v = {src}[{i}:{i + f.nvals}]", f"return None if v[0] is None else _tnew({f.cls}, v)"],
            doc,
        )
    if kind == "opaque":
        return _prop(name, [f"v = {src}[{i}]", f"return None if v is None else {f.cls}._from_wire(v)"], doc)
    raise AssertionError(kind)


def _skip_groups(b: BlockPlan, upto: int, base: int) -> list[str]:
    """Lines leaving in `i` the index in `v` (the view's values) of group `upto` of a flat block."""
    lines = ["v = self._v", f"i = {base + b.nvals}"]
    for g in b.groups[:upto]:
        lines.append(f"i += {g.dim.nvals} + {g.block.nvals} * v[i + {g.dim.n_index}]")
    return lines


def group_accessor(b: BlockPlan, k: int, base: int = 0) -> list[str]:
    g = b.groups[k]
    if b.simple_entries:
        body = [
            *_skip_groups(b, k, base),
            f"return _group_view({g.block.cls}, v, i + {g.dim.nvals}, v[i + {g.dim.n_index}])",
        ]
        return _prop(g.name, body, g.description)
    return _prop(g.name, [f"return self._v[{base + b.nvals + k}]"], g.description)


def data_accessor(b: BlockPlan, j: int, base: int = 0) -> list[str]:
    d = b.data[j]
    if b.simple_entries and b.groups:
        body = [*_skip_groups(b, len(b.groups), base), f"v = v[i + {2 * j + 1}]"]
    else:
        body = [f"v = self._v[{base + b.nvals + len(b.groups) + 2 * j + 1}]"]
    if d.codec:
        body.append(f"return None if v is None else v.decode({d.codec!r}, 'surrogateescape')")
    else:
        body.append("return v")
    return _prop(d.name, body, d.description)


def layout_method(b: BlockPlan, header_size: int, base: int = 0) -> list[str]:
    """`_layout(self)` of a block with groups or data: (index after the wire values, encoded length)."""
    if b.fixed_only:
        return []
    if not b.simple_entries:
        return ["def _layout(self):", f"    return {base + b.nvals + len(b.groups) + 2 * len(b.data)}, None"]
    lines = [
        "def _layout(self):",
        "    v = self._v",
        f"    i = {base + b.nvals}",
        f"    n = {header_size + b.size}",
    ]
    for g in b.groups:
        lines += [
            f"    c = v[i + {g.dim.n_index}]",
            f"    n += {g.dim.size} + {g.block.size} * c",
            f"    i += {g.dim.nvals} + {g.block.nvals} * c",
        ]
    for _ in b.data:
        lines += ["    n += v[i] + " + "LEN_SIZE", "    i += 2"]
    lines.append("    return i, n")
    sizes = iter(d.len_size for d in b.data)
    return [ln.replace("LEN_SIZE", str(next(sizes))) if "LEN_SIZE" in ln else ln for ln in lines]
