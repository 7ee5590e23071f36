"""The Binance-Data-Processor CSVs: read as far as they carry truth, and say so where they carry none."""

from __future__ import annotations

import csv
import itertools
from decimal import Decimal

import pytest

from adapters.binance.replay import NotSynchronisedError, book_at, check_file, replay_file
from core.marketdata.events import Aggressor, TradeEvent


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@pytest.fixture(scope="module")
def merged(lasota_merged):
    return replay_file(lasota_merged, keep_events=True)


def test_merged_usdm_book_matches_the_venue_rest_snapshot(merged, lasota_merged):
    rows = _rows(lasota_merged)
    rest = [r for r in rows if r["StreamType"] == "DEPTH_SNAPSHOT"]
    recorded = [r for r in rows if r["StreamType"] == "FINAL_DEPTH_SNAPSHOT"]
    diffs = [r for r in rows if r["StreamType"] == "DIFFERENCE_DEPTH_STREAM"]
    # Independently: venue levels whose price appears in no input (recorded book or diff) at all.
    mentioned = {(r["IsAsk"], Decimal(r["Price"])) for r in recorded + diffs}
    unreconstructable = {(r["IsAsk"], Decimal(r["Price"])) for r in rest} - mentioned
    assert len(rest) == 2000 and unreconstructable  # the file really has such levels

    check = merged.check
    assert check.truth.startswith("REST depth snapshots")
    assert check.states_compared == 1
    assert check.states_mismatched == 0 and check.levels_mismatched == 0, check.first_mismatches
    assert check.levels_compared == len(rest) - len(unreconstructable)
    assert merged.checker.counts.snapshot_levels_skipped == len(unreconstructable)
    skipped_prices = {Decimal(n.split()[3]) for n in check.notes if n.startswith("skipped level")}
    assert skipped_prices == {p for _, p in unreconstructable}
    assert merged.sync.stats.gaps == 0 and merged.chain_breaks == 0
    assert merged.sync.stats.diffs_applied == len({(r["FirstUpdateId"], r["FinalUpdateId"]) for r in diffs})


def test_merged_usdm_infers_exponents_and_parses_its_trades(merged, lasota_merged):
    inst = merged.client.instruments["TRXUSDT"]
    assert "inferred" in inst.tags  # USD-M TRXUSDT has no static data
    assert (inst.price_exponent, inst.qty_exponent) == (-5, -1)
    trade_rows = [r for r in _rows(lasota_merged) if r["StreamType"] == "TRADE_STREAM"]
    trades = [e for e in merged.events if isinstance(e, TradeEvent)]
    assert len(trades) == len(trade_rows) > 100
    for e, r in zip(trades, trade_rows, strict=True):
        assert e.trade_id == int(r["TradeId"])
        assert Decimal(e.price).scaleb(-5) == Decimal(r["Price"])
        assert Decimal(e.qty).scaleb(-1) == Decimal(r["Quantity"])
        assert e.aggressor is (Aggressor.SELL if r["IsBuyerMarketMaker"] == "1" else Aggressor.BUY)
        assert e.exchange_ts_ns == int(r["TransactionTime"]) * 1_000_000


def test_merged_usdm_book_at_the_end(lasota_merged, merged):
    view = book_at(str(lasota_merged), None, 5)
    assert view.symbol == "TRXUSDT" and view.format == "binance-usdm"
    assert view.update_id == merged.sync.book.update_id
    assert len(view.bids) == len(view.asks) == 5
    assert view.bids[0][0] < view.asks[0][0]


def test_spot_diffs_without_a_snapshot_hold_no_truth(lasota_spot_depth):
    rows = _rows(lasota_spot_depth)
    groups = []
    for r in rows:
        key = (int(r["FirstUpdateId"]), int(r["FinalUpdateId"]))
        if not groups or groups[-1] != key:
            groups.append(key)
    breaks = sum(1 for (_, u0), (u1, _) in itertools.pairwise(groups) if u1 != u0 + 1)

    r = replay_file(lasota_spot_depth)
    assert r.depth_events == len(groups) and r.chain_breaks == breaks
    assert r.check.states_compared == 0 and not r.check.ok
    assert any("cannot be synchronised from diffs alone" in n for n in r.check.notes)
    assert not r.sync.synced and r.sync.buffered == len(groups)
    with pytest.raises(NotSynchronisedError, match="diffs alone"):
        book_at(str(lasota_spot_depth), None, 5)


def test_spot_trades_csv_is_read_exactly_and_holds_no_truth(lasota_spot_trades):
    rows = _rows(lasota_spot_trades)
    r = replay_file(lasota_spot_trades, keep_events=True)
    trades = [e for e in r.events if isinstance(e, TradeEvent)]
    assert len(trades) == len(rows) == 10_000
    inst = r.client.instruments["TRXUSDT"]  # configured spot instrument
    assert inst.id != 0
    first, row = trades[0], rows[0]
    assert first.trade_id == int(row["TradeId"])
    assert Decimal(first.price).scaleb(inst.price_exponent) == Decimal(row["Price"])
    assert Decimal(first.qty).scaleb(inst.qty_exponent) == Decimal(row["Quantity"])
    assert first.exchange_ts_ns == int(row["TransactionTime"]) * 1_000  # microseconds in this recorder
    assert first.receive_ts_ns == int(row["TimestampOfReceive"]) * 1_000
    assert [t.trade_id for t in trades] == sorted(t.trade_id for t in trades)
    check = check_file(str(lasota_spot_trades))
    assert check.states_compared == 0 and check.truth == "none"
