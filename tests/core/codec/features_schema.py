"""A schema exercising the SBE features the project's own schema does not use, in either byte order."""

from __future__ import annotations


def features_xml(byte_order: str = "littleEndian", namespace: str = "http://fixprotocol.io/2016/sbe") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sbe:messageSchema xmlns:sbe="{namespace}" xmlns:acme="urn:acme:extensions"
                   package="feature.test" id="900" version="3" byteOrder="{byte_order}" headerType="hdr">
  <types>
    <composite name="hdr" description="a header with its members in an unusual order">
      <type name="templateId" primitiveType="uint16"/>
      <type name="schemaId" primitiveType="uint16"/>
      <type name="version" primitiveType="uint16"/>
      <type name="blockLength" primitiveType="uint16"/>
    </composite>
    <composite name="groupSizeEncoding">
      <type name="blockLength" primitiveType="uint16"/>
      <type name="numInGroup" primitiveType="uint16"/>
    </composite>
    <composite name="bigGroupSize">
      <type name="blockLength" primitiveType="uint16"/>
      <type name="numInGroup" primitiveType="uint32" maxValue="100000"/>
    </composite>
    <composite name="rawData">
      <type name="length" primitiveType="uint8"/>
      <type name="varData" primitiveType="uint8" length="0"/>
    </composite>
    <composite name="text32">
      <type name="length" primitiveType="uint32" maxValue="1000"/>
      <type name="varData" primitiveType="uint8" length="0" characterEncoding="UTF-8"/>
    </composite>
    <type name="charEnc" primitiveType="char"/>
    <type name="smallInt" primitiveType="uint8" nullValue="0" presence="optional"/>
    <type name="Symbol" primitiveType="char" length="6" characterEncoding="US-ASCII"/>
    <type name="Venue" primitiveType="char" presence="constant" length="4">XNAS</type>
    <type name="Version" primitiveType="uint16" presence="constant">7</type>
    <type name="Ratio" primitiveType="double" presence="optional"/>
    <type name="Weight" primitiveType="float"/>
    <type name="Raw4" primitiveType="uint8" length="4"/>
    <type name="Triple" primitiveType="int32" length="3"/>
    <type name="OptQty" primitiveType="int32" presence="optional"/>
    <enum name="Side" encodingType="charEnc">
      <validValue name="Buy">B</validValue>
      <validValue name="Sell">S</validValue>
    </enum>
    <enum name="Level" encodingType="uint16">
      <validValue name="Low">1</validValue>
      <validValue name="High">1000</validValue>
      <validValue name="Max" sinceVersion="2">2000</validValue>
    </enum>
    <set name="Flags" encodingType="uint16">
      <choice name="a">0</choice>
      <choice name="b">5</choice>
      <choice name="None">15</choice>
    </set>
    <composite name="Price" description="decimal with constant exponent">
      <type name="mantissa" primitiveType="int64" presence="optional"/>
      <type name="exponent" primitiveType="int8" presence="constant">-4</type>
    </composite>
    <composite name="Point">
      <type name="x" primitiveType="int16"/>
      <type name="y" primitiveType="int16" offset="4"/>
    </composite>
    <composite name="Tagged">
      <ref name="side" type="Side"/>
      <ref name="where" type="Point" offset="2"/>
      <ref name="flags" type="Flags"/>
      <type name="label" primitiveType="char" length="3"/>
    </composite>
  </types>
  <sbe:message name="Everything" id="5" blockLength="120" acme:owner="team-x">
    <field name="symbol" id="1" type="Symbol"/>
    <field name="side" id="2" type="Side"/>
    <field name="level" id="3" type="Level" offset="8"/>
    <field name="flags" id="4" type="Flags"/>
    <field name="venue" id="5" type="Venue"/>
    <field name="apiVersion" id="6" type="Version"/>
    <field name="fixedSide" id="7" type="Side" presence="constant" valueRef="Side.Sell"/>
    <field name="small" id="8" type="smallInt"/>
    <field name="ratio" id="9" type="Ratio"/>
    <field name="weight" id="10" type="Weight"/>
    <field name="raw" id="11" type="Raw4"/>
    <field name="triple" id="12" type="Triple"/>
    <field name="price" id="13" type="Price" offset="48"/>
    <field name="point" id="14" type="Point"/>
    <field name="tagged" id="15" type="Tagged"/>
    <field name="qty" id="16" type="OptQty"/>
    <field name="maybeLevel" id="17" type="Level" presence="optional"/>
    <field name="class" id="18" type="uint8"/>
    <field name="late" id="19" type="uint32" sinceVersion="3"/>
    <group name="legs" id="30" blockLength="16">
      <field name="qty" id="1" type="int32"/>
      <field name="side" id="2" type="Side"/>
      <group name="fills" id="40" dimensionType="bigGroupSize">
        <field name="px" id="1" type="Price"/>
        <data name="venueRef" id="2" type="rawData"/>
      </group>
      <data name="legNote" id="3" type="text32"/>
    </group>
    <data name="blob" id="50" type="rawData"/>
    <data name="comment" id="51" type="text32"/>
  </sbe:message>
  <sbe:message name="Tiny" id="6">
    <field name="n" id="1" type="uint8"/>
  </sbe:message>
</sbe:messageSchema>"""
