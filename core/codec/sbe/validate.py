"""`sbe check`: the official XSD plus the semantic checks the XSD cannot express.

Real schemas do not all validate as written: many still use the pre-standard namespace
(`http://www.fixprotocol.org/ns/simple/...`) and vendors add attributes in their own namespaces.
Both are accepted and reported as notes; the XSD then validates the standard part of the document.
"""

from __future__ import annotations

import copy
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from core.codec.sbe.diagnostics import Collector, Issue, SchemaError
from core.codec.sbe.ir import Schema
from core.codec.sbe.parser import PRE_STANDARD_NS_PREFIX, SBE_NS, SchemaParser, describe, read_xml
from core.codec.sbe.plan import plan_issues

XSD_ENV = "AERODESK_SBE_XSD"
ALLOWED_ATTR_NS = {"http://www.w3.org/2001/XMLSchema-instance", "http://www.w3.org/XML/1998/namespace"}


def default_xsd() -> Path | None:
    """The official sbe.xsd: $AERODESK_SBE_XSD, else the shared data folder next to the checkout."""
    env = os.environ.get(XSD_ENV)
    if env:
        return Path(env)
    candidate = Path(__file__).resolve().parents[4] / "shared" / "data" / "sbe-spec" / "sbe.xsd"
    return candidate if candidate.is_file() else None


@cache
def _xml_schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path))


@dataclass
class CheckResult:
    source: str
    issues: list[Issue] = field(default_factory=list)
    schema: Schema | None = None
    xsd: str | None = None  # the XSD used, None when skipped

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_schema(path: str | Path, xsd: str | Path | None = None, use_xsd: bool = True) -> CheckResult:
    """Validates a schema file; every issue carries its line, element and reason."""
    result = CheckResult(source=str(path))
    try:
        tree = read_xml(Path(path))
    except SchemaError as exc:
        result.issues = exc.issues
        return result
    if use_xsd:
        xsd_path = Path(xsd) if xsd else default_xsd()
        if xsd_path is None or not xsd_path.is_file():
            result.issues.append(
                Issue(
                    "note",
                    None,
                    "",
                    f"XSD validation skipped: official sbe.xsd not found (use --xsd or ${XSD_ENV})",
                )
            )
        else:
            result.xsd = str(xsd_path)
            result.issues += xsd_issues(tree, xsd_path)
    col = Collector()
    schema = SchemaParser(tree.getroot(), col).parse()
    result.issues += col.issues
    if schema is not None and not col.has_errors:
        result.schema = schema
        result.issues += [
            Issue("warning", i.line, i.element, f"the Python generator refuses this: {i.message}")
            for i in plan_issues(schema)
            if i.severity == "error"
        ]
    result.issues = _dedupe(sorted(result.issues, key=lambda i: (i.line or 0, i.severity != "error")))
    return result


def xsd_issues(tree: etree._ElementTree, xsd_path: Path) -> list[Issue]:
    """XSD errors of the standard part of the document; namespace rewrites and vendor extensions as notes."""
    issues: list[Issue] = []
    doc = copy.deepcopy(tree.getroot())  # a copy (line numbers kept): the caller's tree stays as written
    root = doc
    ns = etree.QName(root).namespace
    if ns != SBE_NS:
        if ns and ns.startswith(PRE_STANDARD_NS_PREFIX):
            issues.append(
                Issue(
                    "note",
                    root.sourceline,
                    "<messageSchema>",
                    f"pre-standard namespace {ns}: validated as {SBE_NS}",
                )
            )
        elif not ns:
            issues.append(
                Issue("warning", root.sourceline, "<messageSchema>", f"no namespace: validated as {SBE_NS}")
            )
        else:
            issues.append(
                Issue("error", root.sourceline, "<messageSchema>", f"namespace {ns} is not SBE's {SBE_NS}")
            )
            return issues
        for el in doc.iter():
            if (
                isinstance(el.tag, str)
                and etree.QName(el).namespace == ns
                and etree.QName(el).localname
                in (
                    "messageSchema",
                    "message",
                )
            ):
                el.tag = f"{{{SBE_NS}}}{etree.QName(el).localname}"
            elif isinstance(el.tag, str) and etree.QName(el).namespace == ns:
                el.tag = etree.QName(el).localname  # other SBE elements are unqualified in the standard
        if not ns:
            root.tag = f"{{{SBE_NS}}}messageSchema"
            for el in root:
                if isinstance(el.tag, str) and el.tag == "message":
                    el.tag = f"{{{SBE_NS}}}message"
    vendor_attrs: dict[str, list[int]] = defaultdict(list)
    vendor_elements: dict[str, list[int]] = defaultdict(list)
    for el in list(doc.iter()):
        if not isinstance(el.tag, str):
            continue
        qn = etree.QName(el)
        if qn.namespace and qn.namespace != SBE_NS:
            vendor_elements[el.tag].append(el.sourceline or 0)
            el.getparent().remove(el)
            continue
        for attr in list(el.attrib):
            aq = etree.QName(attr)
            if aq.namespace and aq.namespace not in ALLOWED_ATTR_NS:
                vendor_attrs[attr].append(el.sourceline or 0)
                del el.attrib[attr]
    for name, lines in vendor_attrs.items():
        issues.append(
            Issue(
                "note", lines[0], "", f"vendor attribute {_prefixed(name, tree)} ignored ({len(lines)} uses)"
            )
        )
    for name, lines in vendor_elements.items():
        issues.append(
            Issue("note", lines[0], "", f"vendor element {_prefixed(name, tree)} ignored ({len(lines)} uses)")
        )
    xsd = _xml_schema(str(xsd_path))
    if not xsd.validate(doc):
        for entry in xsd.error_log:  # type: ignore[attr-defined]
            issues.append(
                Issue("error", entry.line or None, _element_at(doc, entry), f"XSD: {entry.message}")
            )
    return issues


def _element_at(doc: etree._Element, entry: etree._LogEntry) -> str:
    """'<field name="x">' for the element an XSD error names, found by its tag and line."""
    m = re.match(r"Element '(?:\{[^}]*\})?([\w:]+)'", entry.message)
    if not m:
        return ""
    tag = m.group(1).split(":")[-1]
    for el in doc.iter():
        if isinstance(el.tag, str) and el.sourceline == entry.line and etree.QName(el).localname == tag:
            return describe(el)
    return ""


def _prefixed(clark: str, tree: etree._ElementTree) -> str:
    q = etree.QName(clark)
    for prefix, uri in (tree.getroot().nsmap or {}).items():
        if uri == q.namespace and prefix:
            return f"{prefix}:{q.localname}"
    return clark


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple] = set()
    out = []
    for i in issues:
        key = (i.severity, i.line, i.element, i.message)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out
