"""Fast readers of the market-data frames the TUI folds at bus rate: BookDelta and Trade.

The generated codec (core.codec.messages.decode) builds a view object per message and one per group
entry; at 100k messages/s that alone would take a core. These readers unpack a whole frame with one
precompiled struct (cached per entry count) into a flat tuple, and the book applies it with a plain
loop. They accept exactly the layout this build was generated from (the schema's blockLength of the
message and of the group); any other layout (a newer minor version with extra trailing fields) returns
None and the caller falls back to the generated decoder, which handles schema evolution properly.
"""

from __future__ import annotations

import struct

from core.codec.messages import BookDelta, Trade

DELTA_BLOCK = BookDelta.BLOCK_LENGTH
DELTA_ENTRY = BookDelta.GROUP_TYPES["levels"].BLOCK_LENGTH
_DELTA_FIXED_LENGTH = 8 + DELTA_BLOCK + 4  # header, block, group dimensions
# header (blockLength, templateId, schemaId, version), instrumentId, seq, (venueSeq, exchangeTs,
# receiveTs skipped), publishTs, group dimensions (blockLength, numInGroup), then per level
# (side, price, qty, orderCount)
_DELTA_FIXED = "<HHHHIQ8x8x8xqHH"
_DELTA_MAX_CACHED = 64
_delta_structs: dict[int, tuple[struct.Struct, int]] = {}  # frame length -> (struct, levels)

# DeltaValues: (blockLength, templateId, schemaId, version, instrumentId, seq, publishTs,
#               entryBlockLength, n, side0, price0, qty0, count0, side1, ...)
DeltaValues = tuple[int, ...]
IID, SEQ, PUBLISH_TS = 4, 5, 6
LEVELS_AT = 9  # index of the first level's side in DeltaValues; 4 values per level

TRADE_LENGTH = 8 + Trade.BLOCK_LENGTH
# instrumentId, seq, tradeId, exchangeTs, (receiveTs skipped), publishTs, price, qty, aggressorSide
TRADE = struct.Struct("<8xIQQq8xqqqB")


def _delta_struct(length: int) -> tuple[struct.Struct, int] | None:
    """The struct of a delta frame of this length (one unpack reads it all), None if no delta is."""
    cached = _delta_structs.get(length)
    if cached is not None:
        return cached
    n, rest = divmod(length - _DELTA_FIXED_LENGTH, DELTA_ENTRY)
    if n < 0 or rest:
        return None
    entry = (struct.Struct(_DELTA_FIXED + "BqqI" * n), n)
    if len(_delta_structs) < _DELTA_MAX_CACHED:
        _delta_structs[length] = entry
    return entry


def read_delta(frame: bytes) -> DeltaValues | None:
    """The delta in `frame` (header included) as flat values, or None when its layout is not this build's."""
    entry = _delta_struct(len(frame))
    if entry is None:
        return None
    s, n = entry
    v = s.unpack_from(frame)
    if v[0] != DELTA_BLOCK or v[7] != DELTA_ENTRY or v[8] != n:
        return None
    return v


def delta_levels(values: DeltaValues) -> list[tuple[int, int, int]]:
    """(side, price, qty) of each level of read_delta's values (for tests and tools; the fold loops)."""
    return [(values[i], values[i + 1], values[i + 2]) for i in range(LEVELS_AT, len(values), 4)]


def read_trade(frame: bytes) -> tuple[int, ...] | None:
    """(instrumentId, seq, tradeId, exchangeTs, publishTs, price, qty, aggressorSide) or None."""
    if len(frame) < TRADE_LENGTH or (frame[0] | frame[1] << 8) != Trade.BLOCK_LENGTH:
        return None
    return TRADE.unpack_from(frame)
