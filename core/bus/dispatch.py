"""MessageDispatcher: the fragment handler of a subscriber; validates the SBE header, routes by template.

    dispatcher = MessageDispatcher(SCHEMA_ID, SCHEMA_VERSION)        # or aerodesk_dispatcher()
    dispatcher.on(HEARTBEAT_TEMPLATE_ID, on_heartbeat)               # on_heartbeat(message, header)

Every message starts with the 8-byte little-endian SBE header: blockLength, templateId, schemaId,
version (uint16 each). Bad input never escapes: a frame shorter than the header or than its
blockLength, another schema id, a newer schema version, a template nobody handles, a decoder or a
handler that raises - each is counted per reason, logged (one line per reason per interval) and
skipped, and the rest of the poll batch is still delivered. (An exception escaping pyaeron's poll would
silently consume the rest of the batch.) KeyboardInterrupt and SystemExit are not caught.

What handlers receive (`copy=True`, the default): the message as `bytes`, a copy that is safe to keep.
For small messages the copy costs about what one struct read of the BufferView costs, and it lets the
header check be a single cache lookup on the first 8 bytes. With `copy=False` handlers get pyaeron's
BufferView itself, valid only during the call (for large messages read in place): use
`copy_frame(view)` for anything kept after it. With a `decoder`, handlers receive `decoder(frame)`.
"""

from __future__ import annotations

import logging
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from core.agent.ratelimit import RateLimitedLog
from core.bus.counters import (
    BAD_DECODE,
    BAD_SCHEMA,
    BAD_SHORT_BLOCK,
    BAD_SHORT_HEADER,
    BAD_TEMPLATE,
    BAD_VERSION,
    HANDLER_ERROR,
    SubscriberCounters,
)

log = logging.getLogger("aerodesk.bus")

MESSAGE_HEADER = struct.Struct("<HHHH")  # blockLength, templateId, schemaId, version
HEADER_LENGTH = MESSAGE_HEADER.size
_UINT16_MAX = 0xFFFF
_MAX_CACHED_HEADERS = 1024  # distinct valid headers (template x blockLength x version) remembered

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "codec" / "schema" / "aerodesk.xml"

MessageHandler = Callable[[Any, Any], None]  # (message, header) -> None
Decoder = Callable[[Any], Any]


class SchemaIdentity(NamedTuple):
    schema_id: int
    version: int


def read_schema_identity(path: Path = SCHEMA_PATH) -> SchemaIdentity:
    """Schema id and version from an SBE XML schema (the source of truth, not the generated code)."""
    root = ET.parse(path).getroot()
    try:
        return SchemaIdentity(int(root.attrib["id"]), int(root.attrib.get("version", "0")))
    except (KeyError, ValueError) as e:
        raise ValueError(f"{path}: messageSchema needs integer id and version attributes") from e


def copy_frame(view: Any) -> bytes:
    """A copy of a fragment's bytes that stays valid after the handler returns."""
    return view.tobytes() if hasattr(view, "tobytes") else bytes(view)


def frame_header(frame: Any) -> tuple[int, int, int, int] | None:
    """(blockLength, templateId, schemaId, version) of a frame, or None if it is shorter than a header."""
    if len(frame) < HEADER_LENGTH:
        return None
    return MESSAGE_HEADER.unpack_from(frame)  # type: ignore[return-value]


class MessageDispatcher:
    """Routes SBE messages to handlers by template id; `on_fragment` is the poll handler."""

    def __init__(
        self,
        schema_id: int,
        schema_version: int,
        *,
        decoder: Decoder | None = None,
        copy: bool = True,
        default_handler: MessageHandler | None = None,
        label: str = "",
        report: RateLimitedLog | None = None,
    ) -> None:
        if not (0 <= schema_id <= _UINT16_MAX and 0 <= schema_version <= _UINT16_MAX):
            raise ValueError(f"schema id and version are uint16, got {schema_id}, {schema_version}")
        self.schema_id = schema_id
        self.schema_version = schema_version
        self._decoder = decoder
        self._copy = copy
        self.default_handler = default_handler
        self.label = label
        self.counters = SubscriberCounters()
        self._report = report or RateLimitedLog(log)
        self._handlers: dict[int, MessageHandler] = {}
        # header bytes -> (handler, minimum frame length); only headers that passed every check
        self._cache: dict[bytes, tuple[MessageHandler, int]] = {}
        self.on_fragment: Callable[[Any, Any], None] = self._build()  # built once: subscribers bind it

    @property
    def decoder(self) -> Decoder | None:
        return self._decoder  # fixed at construction: the poll handler is built around it

    @property
    def copy(self) -> bool:
        return self._copy

    def on(self, template_id: int, handler: MessageHandler) -> MessageDispatcher:
        if not 0 <= template_id <= _UINT16_MAX:
            raise ValueError(f"template id is uint16, got {template_id}")
        self._handlers[template_id] = handler
        self._cache.clear()  # cached headers carry their handler; the poll handler itself is unchanged
        return self

    def __call__(self, buffer: Any, header: Any) -> None:
        self.on_fragment(buffer, header)

    def _build(self) -> Callable[[Any, Any], None]:
        """The poll handler.

        Fast path (copy mode): the 8 header bytes of a frame are looked up in a cache of headers that
        already passed every check, giving the handler and the minimum frame length; one length
        comparison remains. Anything else (a header not seen yet, bad input, zero-copy views) takes the
        fully checked path, which fills the cache (bounded: a stream of odd headers cannot grow it).
        Everything the fast path touches is bound to a closure cell: no attribute chains per message.
        """
        cache_get = self._cache.get
        counters = self.counters
        slow = self._dispatch_checked
        handler_failed = self._handler_failed
        decoder = self._decoder
        bad_decode = self._bad_decode

        if not self._copy:

            def on_view(buffer: Any, header: Any) -> None:
                try:
                    slow(buffer, header)
                except Exception as e:
                    handler_failed(e, header)

            return on_view

        if decoder is not None:

            def on_decoded(buffer: Any, header: Any) -> None:
                try:
                    frame = buffer.tobytes()
                    entry = cache_get(frame[:8])
                    if entry is not None and len(frame) >= entry[1]:
                        try:
                            message = decoder(frame)
                        except Exception as e:
                            bad_decode(frame, e, header)
                            return
                        entry[0](message, header)
                        counters.received += 1
                        return
                    slow(frame, header)
                except Exception as e:
                    handler_failed(e, header)

            return on_decoded

        def on_bytes(buffer: Any, header: Any) -> None:
            try:
                frame = buffer.tobytes()
                entry = cache_get(frame[:8])
                if entry is not None and len(frame) >= entry[1]:
                    entry[0](frame, header)
                    counters.received += 1
                else:
                    slow(frame, header)
            except Exception as e:
                handler_failed(e, header)

        return on_bytes

    def _dispatch_checked(self, frame: Any, header: Any) -> None:
        length = len(frame)
        if length < HEADER_LENGTH:
            self._bad(
                BAD_SHORT_HEADER, f"{length}-byte frame is shorter than the 8-byte message header", header
            )
            return
        block_length, template_id, schema_id, version = MESSAGE_HEADER.unpack_from(frame)
        if schema_id != self.schema_id:
            self._bad(BAD_SCHEMA, f"schema id {schema_id} (expected {self.schema_id})", header)
            return
        if version > self.schema_version:
            self._bad(
                BAD_VERSION,
                f"schema version {version} is newer than this build's {self.schema_version} "
                f"(template {template_id}); upgrade this process",
                header,
            )
            return
        if length < HEADER_LENGTH + block_length:
            self._bad(
                BAD_SHORT_BLOCK,
                f"template {template_id}: {length}-byte frame, header says {HEADER_LENGTH + block_length}",
                header,
            )
            return
        handler = self._handlers.get(template_id, self.default_handler)
        if handler is None:
            self._bad(BAD_TEMPLATE, f"no handler for template id {template_id}", header)
            return
        if self._copy and len(self._cache) < _MAX_CACHED_HEADERS:
            self._cache[bytes(frame[:HEADER_LENGTH])] = (handler, HEADER_LENGTH + block_length)
        message = frame
        if self._decoder is not None:
            try:
                message = self._decoder(frame)
            except Exception as e:
                self._bad_decode(frame, e, header)
                return
        handler(message, header)
        self.counters.received += 1

    def _bad_decode(self, frame: Any, e: Exception, header: Any) -> None:
        template_id = MESSAGE_HEADER.unpack_from(frame)[1]
        self._bad(BAD_DECODE, f"template {template_id}: decoder raised {type(e).__name__}: {e}", header)

    def _bad(self, reason: str, detail: str, header: Any) -> None:
        setattr(self.counters, reason, getattr(self.counters, reason) + 1)
        self._report.report(reason, f"{self._where(header)}: skipped a message: {detail} [{reason}]")

    def _handler_failed(self, e: Exception, header: Any) -> None:
        self.counters.handler_error += 1
        self._report.report(
            HANDLER_ERROR,
            f"{self._where(header)}: message handler raised {type(e).__name__}: {e} [{HANDLER_ERROR}]",
            level=logging.ERROR,
            exc=e,
        )

    def _where(self, header: Any) -> str:
        session = getattr(header, "session_id", None)
        name = f"stream {self.label}" if self.label else "subscriber"
        return f"{name} (session {session})" if session is not None else name


class GuardedHandler:
    """Wraps a raw fragment handler (buffer_view, header) so its exceptions are counted, not fatal."""

    def __init__(self, handler: Callable[[Any, Any], None], label: str = "") -> None:
        self.handler = handler
        self.label = label
        self.counters = SubscriberCounters()
        self._report = RateLimitedLog(log)
        self.on_fragment = self._build()

    def __call__(self, buffer: Any, header: Any) -> None:
        self.on_fragment(buffer, header)

    def _build(self) -> Callable[[Any, Any], None]:
        handler = self.handler
        counters = self.counters

        def on_fragment(buffer: Any, header: Any) -> None:
            try:
                handler(buffer, header)
                counters.received += 1
            except Exception as e:
                counters.handler_error += 1
                self._report.report(
                    HANDLER_ERROR,
                    f"stream {self.label or '?'}: fragment handler raised {type(e).__name__}: {e}",
                    level=logging.ERROR,
                    exc=e,
                )

        return on_fragment


def aerodesk_dispatcher(**kwargs: Any) -> MessageDispatcher:
    """A dispatcher for the aerodesk schema, identity read from core/codec/schema/aerodesk.xml."""
    identity = read_schema_identity()
    return MessageDispatcher(identity.schema_id, identity.version, **kwargs)
