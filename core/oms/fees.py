"""Fees when a fill's report carries none: maker/taker bps per venue (configs/venues.toml), and venue ids."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


class FeeSchedule:
    """Maker/taker fees in bps by venue id."""

    def __init__(self, by_venue: dict[int, tuple[Decimal, Decimal]] | None = None) -> None:
        self.by_venue = {v: (Fraction(m), Fraction(t)) for v, (m, t) in (by_venue or {}).items()}

    @classmethod
    def from_venues(cls, venues) -> FeeSchedule:
        """From configs/venues.toml (core.sim.config.load_venues()): every venue with maker/taker bps."""
        return cls({v.id: (v.sim.maker_fee_bps, v.sim.taker_fee_bps) for v in venues if v.sim is not None})

    def bps(self, venue_id: int, maker: bool) -> Fraction:
        entry = self.by_venue.get(venue_id)
        if entry is None:
            return Fraction(0)
        return entry[0] if maker else entry[1]


def venue_ids(venues) -> dict[str, int]:
    """Venue name -> wire VenueId (orders that name no venue go to their instrument's venue)."""
    return {v.name: v.id for v in venues}
