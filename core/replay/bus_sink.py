"""BusSink: sends replayed records into a running desk, each on the stream of the same name it was
recorded from (stream ids may differ between desks; names are the contract).

Outcomes: back pressure and term rotation are retried by the replay agent (nothing is skipped); no
subscriber on the stream (NOT_CONNECTED), a message too big for the target stream, and the like are
counted per stream and reason and the replay moves on; a lost media driver stops the replay
(DeskNotRunning).
"""

from __future__ import annotations

from collections import Counter

from core.bus.client import BusClient
from core.bus.errors import DeskNotRunning
from core.bus.publisher import NO_RETRY, OfferFailure, Publisher
from core.journal import Record
from core.replay.engine import SendResult

_RETRY = (OfferFailure.BACK_PRESSURED, OfferFailure.ADMIN_ACTION)


class BusSink:
    def __init__(self, bus: BusClient, streams: dict[int, str]) -> None:
        """streams: recorded stream id -> the stream name to publish it on in the target desk."""
        self.bus = bus
        self.names = dict(streams)
        self.publishers: dict[int, Publisher] = {
            sid: bus.publisher(name, retry=NO_RETRY) for sid, name in streams.items()
        }
        self.dropped: Counter[tuple[str, str]] = Counter()  # (stream name, reason) -> messages

    def send(self, record: Record) -> SendResult:
        publisher = self.publishers.get(record.stream_id)
        if publisher is None:
            self.dropped[(str(record.stream_id), "not selected")] += 1
            return SendResult.DROPPED
        result = publisher.offer(record.payload)
        if result is True:
            return SendResult.SENT
        if result in _RETRY:
            return SendResult.RETRY
        if result is OfferFailure.CLOSED:
            raise DeskNotRunning(
                self.bus.instance, self.bus.dir, "its media driver went away during the replay"
            )
        self.dropped[(self.names[record.stream_id], result.value)] += 1
        return SendResult.DROPPED

    def all_connected(self) -> bool:
        return all(p.is_connected for p in self.publishers.values())

    def unconnected(self) -> list[str]:
        return [self.names[sid] for sid, p in self.publishers.items() if not p.is_connected]
