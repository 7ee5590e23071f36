"""`sbe check`: the official XSD plus semantic checks, each issue with its line, element and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.codec.project import SCHEMA_PATH
from core.codec.sbe import SchemaError, load_schema
from core.codec.sbe.diagnostics import Issue
from core.codec.sbe.validate import check_schema

HEADER = """
    <composite name="messageHeader">
      <type name="blockLength" primitiveType="uint16"/><type name="templateId" primitiveType="uint16"/>
      <type name="schemaId" primitiveType="uint16"/><type name="version" primitiveType="uint16"/>
    </composite>
    <composite name="groupSizeEncoding">
      <type name="blockLength" primitiveType="uint16"/><type name="numInGroup" primitiveType="uint16"/>
    </composite>
    <composite name="varString">
      <type name="length" primitiveType="uint16"/><type name="varData" primitiveType="uint8" length="0"/>
    </composite>"""


def write(
    tmp_path: Path, types: str, messages: str, ns: str = "http://fixprotocol.io/2016/sbe", version: int = 1
) -> Path:
    p = tmp_path / "s.xml"
    p.write_text(
        '<?xml version="1.0"?>\n'
        f'<sbe:messageSchema xmlns:sbe="{ns}" package="t" id="1" version="{version}">\n'
        f"  <types>{HEADER}\n{types}\n  </types>\n{messages}\n</sbe:messageSchema>\n"
    )
    return p


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def errors(result_issues: list[Issue]) -> list[Issue]:
    return [i for i in result_issues if i.severity == "error"]


@pytest.fixture
def xsd(shared_data: Path) -> Path:
    return shared_data / "sbe-spec" / "sbe.xsd"


def test_real_schemas_pass(shared_data: Path, xsd: Path) -> None:
    for path in (
        SCHEMA_PATH,
        shared_data / "sbe-spec" / "Examples.xml",
        shared_data / "sbe-binance-schema" / "spot_3_5.xml",
        shared_data / "sbe-binance-schema" / "stream_1_0.xml",
    ):
        result = check_schema(path, xsd)
        assert result.ok, [i.format() for i in result.errors]
        assert result.xsd == str(xsd)


def test_vendor_attributes_are_notes_not_errors(shared_data: Path, xsd: Path) -> None:
    result = check_schema(shared_data / "sbe-binance-schema" / "spot_3_5.xml", xsd)
    notes = [i.message for i in result.issues if i.severity == "note"]
    assert any("vendor attribute mbx:exponent ignored" in n for n in notes)
    assert result.ok


def test_semantic_errors_carry_line_element_and_reason(tmp_path: Path, xsd: Path) -> None:
    path = write(
        tmp_path,
        """<enum name="Side" encodingType="uint8"><validValue name="Buy">1</validValue>
              <validValue name="Sell">1</validValue></enum>
           <type name="Px" primitiveType="int64"/>
           <type name="Px" primitiveType="int32"/>""",
        """<sbe:message name="A" id="1">
             <field name="price" id="1" type="Px"/>
             <field name="qty" id="2" type="Qtyy"/>
             <field name="side" id="3" type="Side" offset="4"/>
             <group name="g" id="4" blockLength="2"><field name="x" id="1" type="int32"/></group>
             <data name="d" id="5" type="varString"/>
             <field name="late" id="6" type="int32" sinceVersion="3"/>
           </sbe:message>
           <sbe:message name="B" id="1"><field name="note" id="1" type="varString"/></sbe:message>""",
    )
    issues = errors(check_schema(path, xsd).issues)
    expected = [
        ('<validValue name="Sell">', "repeats that of 'Buy'"),
        ('<type name="Px">', "duplicate type name 'Px'"),
        ('<field name="qty">', "unknown type 'Qtyy'"),
        ('<field name="side">', "offset=4 overlaps the previous field"),
        ('<group name="g">', "blockLength=2 is smaller than its fields need (4)"),
        ('<field name="late">', "field after a group or var data"),
        ('<field name="late">', "sinceVersion=3 is above the schema version 1"),
        ('<message name="B">', "duplicate message id 1"),
        ('<field name="note">', "variable-length: use <data>"),
    ]
    for element, reason in expected:
        hits = [i for i in issues if i.element == element and reason in i.message]
        assert hits, f"missing {element} {reason!r} in {[i.format() for i in issues]}"
        tag = element.split()[0][1:]
        name = element.split('"')[1]
        assert hits[0].line == line_of(path, f'{tag} name="{name}"') or element.startswith("<type")
    assert issues[0].line is not None and "s.xml:" in issues[0].format(str(path))


def test_xsd_errors_are_reported_with_their_line(tmp_path: Path, xsd: Path) -> None:
    path = write(
        tmp_path,
        "",
        '<sbe:message name="A" id="1">\n<field name="x" id="1" type="int32" colour="red"/>\n</sbe:message>',
    )
    xsd_errors = [i for i in errors(check_schema(path, xsd).issues) if i.message.startswith("XSD:")]
    assert xsd_errors and "colour" in xsd_errors[0].message and xsd_errors[0].element == '<field name="x">'
    assert xsd_errors[0].line == line_of(path, 'colour="red"')


def test_pre_standard_namespace_is_accepted_with_a_note(tmp_path: Path, xsd: Path) -> None:
    path = write(
        tmp_path,
        "",
        '<sbe:message name="A" id="1"><field name="x" id="1" type="int32"/></sbe:message>',
        ns="http://www.fixprotocol.org/ns/simple/1.0",
    )
    result = check_schema(path, xsd)
    assert result.ok
    assert any("pre-standard namespace" in i.message for i in result.issues if i.severity == "note")


def test_structural_errors(tmp_path: Path, xsd: Path) -> None:
    path = write(
        tmp_path,
        """<composite name="badDim"><type name="blockLength" primitiveType="uint16"/></composite>
           <set name="S" encodingType="uint8"><choice name="a">8</choice></set>""",
        """<sbe:message name="A" id="1">
             <group name="g" id="1" dimensionType="badDim"><field name="x" id="1" type="int8"/></group>
             <data name="d" id="2" type="int32"/>
           </sbe:message>""",
    )
    messages = [i.message for i in errors(check_schema(path, xsd).issues)]
    assert any("group dimension needs an unsigned int 'numInGroup'" in m for m in messages)
    assert any("bit 8 does not fit uint8" in m for m in messages)
    assert any("of var data needs 'length' and 'varData' members" in m for m in messages)


def test_malformed_xml_and_missing_xsd(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<sbe:messageSchema>\n<types>\n</sbe:messageSchema>\n")
    result = check_schema(bad, tmp_path / "none.xsd")
    assert not result.ok and "malformed XML" in result.errors[0].message and result.errors[0].line
    ok = check_schema(SCHEMA_PATH, tmp_path / "none.xsd")
    assert ok.ok and ok.xsd is None
    assert any("XSD validation skipped" in i.message for i in ok.issues)


def test_load_schema_raises_schema_error_listing_every_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "",
        '<sbe:message name="A" id="1"><field name="x" id="1" type="nope"/>'
        '<field name="y" id="2" type="nope2"/></sbe:message>',
    )
    with pytest.raises(SchemaError) as info:
        load_schema(path)
    assert len(info.value.issues) == 2 and "unknown type 'nope2'" in str(info.value)
