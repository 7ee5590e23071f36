"""Names of what a journal holds: stream ids by the desk's stream names, templates by message name.

Stream names come from the bus configuration (configs/channels.toml, or $AERODESK_CHANNELS_CONFIG);
stream id 0 is the journal's own marker stream (core.recorder.markers).
"""

from __future__ import annotations

from core.bus.config import BusConfig, load_bus_config
from core.codec.messages import MESSAGES
from core.config import ConfigError
from core.recorder.markers import MARKER_STREAM_ID

MARKER_STREAM_NAME = "markers"


class StreamNames:
    def __init__(self, config: BusConfig | None = None) -> None:
        if config is None:
            try:
                config = load_bus_config()
            except ConfigError:
                config = None  # names are a convenience; ids always work
        self.by_id: dict[int, str] = {MARKER_STREAM_ID: MARKER_STREAM_NAME}
        if config is not None:
            self.by_id.update({s.stream_id: s.name for s in config.streams.values()})
        self.by_name = {name: sid for sid, name in self.by_id.items()}

    def name(self, stream_id: int) -> str:
        return self.by_id.get(stream_id, str(stream_id))

    def resolve(self, text: str) -> int:
        """A stream id from its number or name; ValueError naming the known streams."""
        text = text.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            return self.by_name[text]
        except KeyError:
            known = ", ".join(f"{n} ({i})" for i, n in sorted(self.by_id.items()))
            raise ValueError(f"unknown stream {text!r}: give a number or one of {known}") from None


def template_name(template_id: int) -> str:
    message = MESSAGES.get(template_id)
    return message.NAME if message is not None else f"template-{template_id}"


def resolve_template(text: str) -> type:
    """A codec message class from its name (any case) or template id; ValueError listing the names."""
    text = text.strip()
    if text.isdigit() and int(text) in MESSAGES:
        return MESSAGES[int(text)]
    for message in MESSAGES.values():
        if message.NAME.lower() == text.lower():
            return message
    names = ", ".join(m.NAME for m in MESSAGES.values())
    raise ValueError(f"unknown message type {text!r}: one of {names} (or a template id)")
