"""The common factor of the synthetic markets (core/market/factor.py): a seeded walk, correlated mids
as the loadings say, independent ones without it, the same stream for the same seed, strict config."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest

from core.config import ConfigError
from core.instruments import load_instruments
from core.market import CommonFactor, FactorParams, SyntheticFeed, SyntheticMarket, SyntheticParams
from core.sim.config import load_venues

CATALOG = load_instruments()
BTC, ETH = CATALOG.by_id(1), CATALOG.by_id(2)
T0 = 1_704_067_200_000_000_000
SEC = 1_000_000_000
FACTOR_VOL = 3.0  # bp per sqrt(second)
OWN_VOL = {BTC.symbol: 1.0, ETH.symbol: 1.2}  # the markets' own volatility (bp per sqrt(second)),
# the same in both regimes
RUN_S = 1500  # a long run ...
STEP_S = 5  # ... of 299 five-second returns per market
# The books' mids follow their fair prices with a lag of about a second (30 book events a second), a lag
# of each book's own: one-second returns are decorrelated by it, five-second ones much less. The sampling
# error of a correlation over 299 returns is (1 - rho^2) / sqrt(n) < 0.04: the margin of 0.1 covers it
# and what is left of the lag. The model gives 0.88 for loadings (1, 1) and 0.74 for (1, 0.5);
# independent markets stay within the margin of 0.
MARGIN = 0.1


def params() -> dict[str, SyntheticParams]:
    """One volatility in both regimes, so each market's own part is a plain OU process."""

    def one(inst, price: str, spacing: int) -> SyntheticParams:
        v = OWN_VOL[inst.symbol]
        return SyntheticParams.for_instrument(
            inst, price, level_spacing_ticks=spacing, event_rate_hz=30.0, calm_vol_bps=v, volatile_vol_bps=v
        )

    return {BTC.symbol: one(BTC, "60000", 50), ETH.symbol: one(ETH, "3000", 5)}


def returns(feed: SyntheticFeed, step_s: int) -> dict[int, list[float]]:
    """Each market's log returns of its mid over step_s seconds, for RUN_S seconds."""
    out: dict[int, list[float]] = {BTC.id: [], ETH.id: []}
    last: dict[int, int] = {}
    for k in range(step_s, RUN_S + 1, step_s):
        feed.events_until(T0 + k * SEC)
        for iid in out:
            mid = feed.market(iid).book.mid_x2()
            if iid in last:
                out[iid].append(math.log(mid / last[iid]))
            last[iid] = mid
    return out


def correlation(loadings: dict[str, float] | None, step_s: int = STEP_S, seed: int = 3) -> float:
    factor = FactorParams(FACTOR_VOL, loadings) if loadings is not None else None
    feed = SyntheticFeed.for_instruments([BTC, ETH], params(), seed=seed, start_ts_ns=T0, factor=factor)
    r = returns(feed, step_s)
    return statistics.correlation(r[BTC.id], r[ETH.id])


def model_correlation(la: float, lb: float) -> float:
    """A market's log return over a horizon short against its half-life is L * dF plus its own part,
    independent of F: the covariance of two is La Lb var(dF), each variance L^2 var(dF) + own^2."""
    f2 = FACTOR_VOL**2
    a2, b2 = OWN_VOL[BTC.symbol] ** 2, OWN_VOL[ETH.symbol] ** 2
    return la * lb * f2 / math.sqrt((la * la * f2 + a2) * (lb * lb * f2 + b2))


@pytest.mark.parametrize(("la", "lb"), [(1.0, 1.0), (1.0, 0.5), (1.0, -1.0)])
def test_the_mids_move_together_as_the_loadings_say(la: float, lb: float) -> None:
    expected = model_correlation(la, lb)
    measured = correlation({BTC.symbol: la, ETH.symbol: lb})
    assert abs(expected) > 3 * MARGIN  # a bound that independent markets cannot meet
    assert abs(measured - expected) < MARGIN, (measured, expected)


@pytest.mark.parametrize("loadings", [None, {BTC.symbol: 1.0}, {BTC.symbol: 0.0, ETH.symbol: 0.0}])
def test_without_a_shared_factor_the_mids_are_not_correlated(loadings) -> None:
    # one-second returns: 1499 of them, so the margin is about four sampling errors of a zero correlation
    assert abs(correlation(loadings, step_s=1)) < MARGIN


def test_the_same_seed_gives_the_same_stream_and_another_seed_another() -> None:
    factor = FactorParams(FACTOR_VOL, {BTC.symbol: 1.0, ETH.symbol: 1.0})

    def run(seed: int) -> list:
        feed = SyntheticFeed.for_instruments([BTC, ETH], params(), seed=seed, start_ts_ns=T0, factor=factor)
        out = []
        for k in range(1, 61):
            out += feed.events_until(T0 + k * SEC)
        return out

    first = run(9)
    assert len(first) > 1000 and run(9) == first and run(10) != first
    # a market the factor does not load keeps its own stream, event for event
    partial = SyntheticFeed.for_instruments(
        [BTC, ETH], params(), seed=9, start_ts_ns=T0, factor=FactorParams(FACTOR_VOL, {BTC.symbol: 1.0})
    )
    alone = SyntheticMarket(ETH, params()[ETH.symbol], seed=9, start_ts_ns=T0)
    eth = [e for e in partial.events_until(T0 + 60 * SEC) if e.instrument_id == ETH.id]
    assert eth == alone.events_until(T0 + 60 * SEC)


def test_the_factor_is_a_seeded_walk_read_the_same_in_any_order() -> None:
    a, b = CommonFactor(3, 5.0, start_ts_ns=T0), CommonFactor(3, 5.0, start_ts_ns=T0)
    times = [T0 + k * 7_000_000 for k in range(500)]
    forward = [a.at(t) for t in times]
    backward = [b.at(t) for t in reversed(times)][::-1]
    assert forward == backward and a.at(T0) == 0.0 and a.at(T0 - SEC) == 0.0
    assert CommonFactor(4, 5.0, start_ts_ns=T0).at(T0 + SEC) != a.at(T0 + SEC)
    step = a.step_ns
    assert a.at(T0 + step // 2) == (a.at(T0) + a.at(T0 + step)) / 2  # linear between grid points


def test_the_factor_has_the_configured_volatility() -> None:
    f = CommonFactor(1, 10.0, start_ts_ns=T0)  # 10 bp per sqrt(second)
    moves = [f.at(T0 + (k + 1) * SEC) - f.at(T0 + k * SEC) for k in range(2000)]
    sd_bp = statistics.pstdev(moves) * 1e4
    assert 9.0 < sd_bp < 11.0  # 2000 samples: the sd is within a few percent of 10


def test_the_shipped_venues_correlate_btc_and_eth() -> None:
    factor = load_venues(instruments=CATALOG).sim().factor
    assert factor is not None and factor.vol_bps > 0
    assert factor.loading(BTC.symbol) > 0 and factor.loading(ETH.symbol) > 0


def venues_with(tmp_path: Path, factor_table: str) -> Path:
    text = (Path(__file__).resolve().parents[3] / "configs" / "venues.toml").read_text()
    start = text.index("[venues.sim.factor]")
    end = text.index("\n[", text.index("[venues.sim.factor.loadings]") + 1)
    path = tmp_path / "venues.toml"
    path.write_text(text[:start] + factor_table + text[end:])
    return path


@pytest.mark.parametrize(
    ("table", "key", "reason"),
    [
        (
            "[venues.sim.factor]\nvol_bps = -1.0\n",
            "venues.sim.factor.vol_bps",
            "must be a finite number >= 0",
        ),
        (
            "[venues.sim.factor]\nvol_bps = 2.0\nstep_ms = 0\n",
            "venues.sim.factor.step_ms",
            "must be positive",
        ),
        (
            "[venues.sim.factor]\nvol_bps = 2.0\nvolatility = 3\n",
            "venues.sim.factor.volatility",
            "unknown key",
        ),
        ("[venues.sim.factor]\nstep_ms = 20\n", "venues.sim.factor.vol_bps", "required key is missing"),
        (
            "[venues.sim.factor]\nvol_bps = 2.0\n[venues.sim.factor.loadings]\nDOGE-USD = 1.0\n",
            "venues.sim.factor.loadings.DOGE-USD",
            "not an instrument of this venue",
        ),
        (
            "[venues.sim.factor]\nvol_bps = 2.0\n[venues.sim.factor.loadings]\nBTC-USD = 50.0\n",
            "venues.sim.factor.loadings",
            "must be in [-10.0, 10.0]",
        ),
        (
            '[venues.sim.factor]\nvol_bps = 2.0\n[venues.sim.factor.loadings]\nBTC-USD = "one"\n',
            "venues.sim.factor.loadings.BTC-USD",
            "expected a number",
        ),
    ],
)
def test_a_bad_factor_table_names_its_file_and_key(tmp_path: Path, table: str, key: str, reason: str) -> None:
    path = venues_with(tmp_path, table)
    with pytest.raises(ConfigError) as err:
        load_venues(path, instruments=CATALOG)
    assert err.value.key == key and reason in err.value.reason and err.value.file == str(path)
