"""`aerodesk log export --parquet OUT`: one Parquet table per message type, built column by column from
the vectorised decoder (core.recorder.columns) with pyarrow; no per-record Python.

Files: OUT/<Message>.parquet per message type present, and OUT/<Message>.<group>.parquet per repeating
group (one row per entry; `sequence` is the journal sequence of the message it belongs to and
`entry` its index in the group).

Columns of every table: sequence (uint64), receive_time_ns (int64 epoch ns, the recorder's receive
time), stream_id, session_id; then the message's fields in schema order:
- integers as their SBE type; timestamps stay int64 epoch ns (0 means "not set");
- prices and quantities (schema types Price, OptionalPrice, Qty) as their int64 mantissa, each followed
  by `<field>_exponent` (int8): the instrument's price or quantity exponent from the static data
  (configs/instruments.toml), so value = mantissa * 10^exponent exactly; the instrument is the row's
  own instrumentId, or its message's for group entries; null when the instrument is unknown;
- optional fields holding their null value are null;
- enums as dictionary-encoded names (an undefined value reads UNKNOWN_<n>); sets as their integer bits;
- composites flattened as `<field>_<member>` (a Decimal64 gives `<field>_mantissa` and
  `<field>_exponent`, already exact); char arrays and var data as strings (binary if not UTF-8).
Each file's schema metadata names the journal, the SBE schema id and version, and this convention.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import core.codec.messages as codec
from core.instruments import InstrumentCatalog, load_instruments
from core.journal import JournalReader
from core.recorder.columns import TemplateColumns, VarData, decode_columns
from core.recorder.schema_info import BlockInfo, FieldInfo, schema_blocks

CONVENTION = (
    "fixed point: value = mantissa * 10^exponent; <field>_exponent columns hold the instrument's price or "
    "quantity exponent; times are int64 epoch ns"
)


@dataclass(frozen=True)
class ExportedTable:
    path: Path
    message: str
    rows: int


def export_parquet(
    reader: JournalReader,
    out_dir: Path,
    *,
    catalog: InstrumentCatalog | None = None,
    messages: list[type] | None = None,
) -> list[ExportedTable]:
    """Write every message type present (or those given) to `out_dir`; returns what was written."""
    catalog = catalog if catalog is not None else load_instruments()
    present = {int(t) for t in np.unique(reader.scan(schema_id=codec.SCHEMA_ID)["template_id"]).tolist()}
    chosen = messages or [m for tid, m in sorted(codec.MESSAGES.items()) if tid in present]
    out_dir.mkdir(parents=True, exist_ok=True)
    exponents = _Exponents(catalog)
    written = []
    for message in chosen:
        cols = decode_columns(reader, message)
        if not len(cols):
            continue
        info = schema_blocks()[message.NAME]
        meta = {
            "journal": str(reader.path),
            "message": message.NAME,
            "schema_id": str(codec.SCHEMA_ID),
            "schema_version": str(codec.SCHEMA_VERSION),
            "convention": CONVENTION,
        }
        table = _message_table(cols, info, exponents).replace_schema_metadata(meta)
        path = out_dir / f"{message.NAME}.parquet"
        pq.write_table(table, path)
        written.append(ExportedTable(path, message.NAME, table.num_rows))
        instrument = (
            cols.blocks["instrumentId"] if "instrumentId" in (message.BLOCK_DTYPE.names or ()) else None
        )
        for name in cols.groups:
            gtable = _group_table(cols, name, info.groups[name], instrument, exponents)
            gpath = out_dir / f"{message.NAME}.{name}.parquet"
            pq.write_table(gtable.replace_schema_metadata(meta | {"group": name}), gpath)
            written.append(ExportedTable(gpath, f"{message.NAME}.{name}", gtable.num_rows))
    return written


class _Exponents:
    """Instrument id -> price/qty exponent, as lookup arrays for vectorised mapping."""

    def __init__(self, catalog: InstrumentCatalog) -> None:
        instruments = list(catalog)
        self.size = max((i.id for i in instruments), default=0) + 1
        self.known = np.zeros(self.size, bool)
        self.price = np.zeros(self.size, np.int8)
        self.qty = np.zeros(self.size, np.int8)
        for i in instruments:
            self.known[i.id] = True
            self.price[i.id] = i.price_exponent
            self.qty[i.id] = i.qty_exponent

    def column(self, scale: str, instrument_ids: np.ndarray) -> pa.Array:
        ids = instrument_ids.astype(np.int64)
        inside = (ids >= 0) & (ids < self.size)
        safe = np.where(inside, ids, 0)
        known = inside & self.known[safe]
        values = (self.price if scale == "price" else self.qty)[safe]
        return pa.array(values, pa.int8(), mask=~known)


def _message_table(cols: TemplateColumns, info: BlockInfo, exponents: _Exponents) -> pa.Table:
    rows = cols.rows
    arrays: dict[str, pa.Array] = {
        "sequence": pa.array(rows["sequence"]),
        "receive_time_ns": pa.array(rows["receive_time_ns"]),
        "stream_id": pa.array(rows["stream_id"]),
        "session_id": pa.array(rows["session_id"]),
    }
    instrument = cols.blocks["instrumentId"] if "instrumentId" in (cols.blocks.dtype.names or ()) else None
    _block_columns(arrays, cols.blocks, info, instrument, exponents)
    for name, var in cols.data.items():
        arrays[name] = _var_column(var)
    return pa.table(arrays)


def _group_table(
    cols: TemplateColumns,
    name: str,
    info: BlockInfo,
    parent_instrument: np.ndarray | None,
    exponents: _Exponents,
) -> pa.Table:
    group = cols.groups[name]
    parent = group.parent
    first = np.searchsorted(parent, parent, side="left")  # parent rows ascend: entry index within its group
    arrays: dict[str, pa.Array] = {
        "sequence": pa.array(cols.rows["sequence"][parent]),
        "receive_time_ns": pa.array(cols.rows["receive_time_ns"][parent]),
        "entry": pa.array((np.arange(len(parent)) - first).astype(np.int32)),
    }
    names = group.blocks.dtype.names or ()
    own = group.blocks["instrumentId"] if "instrumentId" in names else None
    instrument = (
        own if own is not None else (parent_instrument[parent] if parent_instrument is not None else None)
    )
    _block_columns(arrays, group.blocks, info, instrument, exponents)
    return pa.table(arrays)


def _block_columns(
    arrays: dict[str, pa.Array],
    blocks: np.ndarray,
    info: BlockInfo,
    instrument: np.ndarray | None,
    exponents: _Exponents,
) -> None:
    for name in blocks.dtype.names or ():
        field = info.fields.get(name) or FieldInfo(name, "", "int")
        column = blocks[name]
        if column.dtype.names:  # a composite: one column per member
            for member in column.dtype.names:
                arrays[f"{name}_{member}"] = _plain(column[member])
            continue
        if field.kind == "enum":
            arrays[name] = _enum_column(field.type_name, column)
        elif field.kind == "chars" or column.dtype.kind == "S":
            arrays[name] = _plain(column)
        else:
            mask = column == field.null_value if field.null_value is not None else None
            arrays[name] = pa.array(column, mask=mask)
        if field.scale is not None and instrument is not None:
            arrays[f"{name}_exponent"] = exponents.column(field.scale, instrument)


def _plain(column: np.ndarray) -> pa.Array:
    if column.dtype.kind == "S":
        binary = pa.array(column)
        try:
            return binary.cast(pa.string())
        except pa.ArrowInvalid:
            return binary
    return pa.array(column)


def _enum_column(type_name: str, column: np.ndarray) -> pa.Array:
    enum_cls: Any = getattr(codec, type_name, None)
    values, indices = np.unique(column, return_inverse=True)
    names = [enum_cls(v).name if enum_cls is not None else str(v) for v in values.tolist()]
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), pa.array(names, pa.string()))


def _var_column(var: VarData) -> pa.Array:
    n = len(var.offsets) - 1
    offsets = pa.py_buffer(np.ascontiguousarray(var.offsets, np.int64))
    data = pa.py_buffer(np.ascontiguousarray(var.data))
    text = pa.LargeStringArray.from_buffers(n, offsets, data)
    try:
        text.validate(full=True)
        return text
    except pa.ArrowInvalid:
        return pa.LargeBinaryArray.from_buffers(n, offsets, data)
