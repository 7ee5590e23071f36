"""SBE frames for bus tests, built with struct from the schema's header layout (schema 7001 v1).

Tests use template ids of their own (900+) so they do not depend on the generated codec.
"""

from __future__ import annotations

import struct

from core.bus.dispatch import MESSAGE_HEADER, read_schema_identity

SCHEMA = read_schema_identity()
SEQ_TEMPLATE = 901  # body: seq u64, then padding
BOOM_TEMPLATE = 902  # the test handler raises on it
SEQ_BODY = struct.Struct("<Q")


def frame(
    template_id: int,
    body: bytes,
    *,
    block_length: int | None = None,
    schema_id: int = SCHEMA.schema_id,
    version: int = SCHEMA.version,
) -> bytes:
    bl = len(body) if block_length is None else block_length
    return MESSAGE_HEADER.pack(bl, template_id, schema_id, version) + body


def seq_frame(seq: int, size: int = 16, template_id: int = SEQ_TEMPLATE) -> bytes:
    """A message carrying `seq`, `size` bytes in total; the body is a pattern derived from seq."""
    body_len = max(size - MESSAGE_HEADER.size, SEQ_BODY.size)
    filler = bytes((seq + i) & 0xFF for i in range(body_len - SEQ_BODY.size))
    # The fixed block is the seq; the filler stands for the variable-length part of a real message.
    return frame(template_id, SEQ_BODY.pack(seq) + filler, block_length=SEQ_BODY.size)


def seq_of(message: bytes) -> int:
    return SEQ_BODY.unpack_from(message, MESSAGE_HEADER.size)[0]


def check_seq_frame(message: bytes) -> bool:
    """True if the filler matches the pattern for its seq (no corruption in reassembly)."""
    seq = seq_of(message)
    filler = message[MESSAGE_HEADER.size + SEQ_BODY.size :]
    return filler == bytes((seq + i) & 0xFF for i in range(len(filler)))
