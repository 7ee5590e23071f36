"""When the oms daemon asks its venues for their orders, and how long new orders wait for the answers."""

from __future__ import annotations

from core.daemons.oms.reconcile import MAX_ATTEMPTS, Reconciler
from core.oms.engine import OMS_CLIENT_ID, RECONCILE_CORRELATION

MS = 1_000_000


class Venue:
    def __init__(self) -> None:
        self.listening = False
        self.working: list[int] = [1]  # venues with working orders
        self.sent: list[tuple[int, bytes]] = []

    def requests(self, also: set[int]) -> list[tuple[int, bytes]]:
        return [(v, b"query") for v in sorted(set(self.working) | also)]

    def working_venues(self) -> set[int]:
        return set(self.working)


def reconciler(v: Venue) -> Reconciler:
    return Reconciler(
        v.requests,
        lambda venue, payload: v.sent.append((venue, payload)),
        lambda: v.listening,
        100 * MS,
        v.working_venues,
    )


def test_waits_for_a_venue_then_holds_orders_until_it_answers() -> None:
    v = Venue()
    r = reconciler(v)
    assert r.do_work(0) == 0 and not v.sent and not r.holding  # no venue gateway yet
    v.listening = True
    assert r.do_work(1) == 1 and v.sent == [(1, b"query")] and r.holding
    assert not r.on_venue_ack(RECONCILE_CORRELATION | 2, OMS_CLIENT_ID)  # another venue's: not ours
    assert not r.on_venue_ack(RECONCILE_CORRELATION | 1, 1234)  # some other client's query
    assert r.on_venue_ack(RECONCILE_CORRELATION | 1, OMS_CLIENT_ID)
    assert not r.holding and r.finished == 1
    assert r.do_work(2) == 0 and len(v.sent) == 1  # once is enough until wanted again


def test_nothing_to_reconcile_holds_nothing() -> None:
    v = Venue()
    v.listening, v.working = True, []
    r = reconciler(v)
    assert r.do_work(0) == 0 and not r.holding and r.started == 0


def test_an_unanswered_query_is_asked_again_then_given_up() -> None:
    v = Venue()
    v.listening = True
    r = reconciler(v)
    now = 0
    for _ in range(MAX_ATTEMPTS):
        r.do_work(now)  # ask
        assert r.holding
        now += 100 * MS
        r.do_work(now)  # time out
    assert len(v.sent) == MAX_ATTEMPTS and r.timeouts == MAX_ATTEMPTS
    assert not r.holding and r.do_work(now + 1) == 0  # gone on without it
    r.want("a venue gateway joined")
    assert r.do_work(now + 2) == 1 and len(v.sent) == MAX_ATTEMPTS + 1


def test_a_venue_whose_orders_ended_before_the_query_went_out_is_still_asked() -> None:
    """Orders working after the replay may end before the venue gateway listens (a dead-man cancel the
    venue confirmed): the venue may have filled them while the oms was down, so it is still asked."""
    v = Venue()
    r = reconciler(v)  # after the replay: venue 1 holds working orders
    v.working = []  # ... which end before any venue listens
    v.listening = True
    assert r.do_work(0) == 1 and v.sent == [(1, b"query")] and r.holding
    assert r.on_venue_ack(RECONCILE_CORRELATION | 1, OMS_CLIENT_ID)
    v.working = [2]
    r.want("a venue gateway joined")
    v.working = []  # venue 2's orders end too before the query
    now = 1
    assert r.do_work(now) == 1 and v.sent[-1] == (2, b"query")
    now += 100 * MS
    r.do_work(now)  # no answer: asked again, still venue 2
    assert r.do_work(now + 1) == 1 and v.sent[-1] == (2, b"query") and len(v.sent) == 3
    assert r.on_venue_ack(RECONCILE_CORRELATION | 2, OMS_CLIENT_ID)
    r.want("a venue report could not be journaled")
    assert r.do_work(now + 2) == 0 and len(v.sent) == 3  # nothing working, nothing owed: nothing to ask
