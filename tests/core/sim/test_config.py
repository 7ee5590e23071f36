"""configs/venues.toml: strict loading, every instrument's venue configured, the sim venue's settings."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from core.config import ConfigError, configs_dir
from core.instruments import load_instruments
from core.sim.config import QueueCancels, SelfTradePolicy, SelfTradeScope, load_venues

SIM = """
[venues.sim]
id = 1
kind = "sim"
order_latency_us = 10
report_latency_us = 20
maker_fee_bps = "-0.5"
taker_fee_bps = 4
self_trade = "cancel_both"
self_trade_scope = "strategy"
queue_cancels = "pro_rata"
"""
DATA = """
[venues.binance-spot]
id = 2
kind = "data"
[venues.binance-usdm]
id = 3
kind = "data"
[venues.lobster]
id = 4
kind = "data"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "venues.toml"
    p.write_text(text)
    return p


def test_shipped_venues_cover_every_instrument_and_match_the_file():
    catalog = load_instruments()
    venues = load_venues()
    assert {i.venue for i in catalog} <= {v.name for v in venues}
    raw = tomllib.loads((configs_dir() / "venues.toml").read_text())["venues"]
    sim = venues.sim()
    assert sim.order_latency_ns == raw["sim"]["order_latency_us"] * 1000
    assert sim.report_latency_ns == raw["sim"]["report_latency_us"] * 1000
    assert sim.taker_fee_bps == Decimal(raw["sim"]["taker_fee_bps"])
    assert venues.get("lobster").kind == "data" and venues.get("lobster").sim is None
    # Every sim instrument with a market table gets its start price exactly.
    for symbol, table in raw["sim"]["markets"].items():
        inst = catalog.resolve(symbol)
        assert sim.markets[symbol].start_price == inst.price_mantissa(table["start_price"])
    assert venues.by_id(raw["binance-spot"]["id"]).name == "binance-spot"


def test_sim_settings_are_read(tmp_path):
    v = load_venues(write(tmp_path, SIM + DATA))
    sim = v.sim("sim")
    assert (sim.order_latency_ns, sim.report_latency_ns) == (10_000, 20_000)
    assert sim.maker_fee_bps == Decimal("-0.5") and sim.taker_fee_bps == Decimal(4)
    assert sim.self_trade == SelfTradePolicy.CANCEL_BOTH
    assert sim.self_trade_scope == SelfTradeScope.STRATEGY
    assert sim.queue_cancels == QueueCancels.PRO_RATA


def test_unknown_key_names_file_and_key(tmp_path):
    p = write(tmp_path, SIM.replace("order_latency_us", "order_latncy_us") + DATA)
    with pytest.raises(ConfigError) as e:
        load_venues(p)
    assert e.value.key == "venues.sim.order_latncy_us" and e.value.file == str(p)


def test_an_instruments_venue_must_be_configured(tmp_path):
    p = write(tmp_path, SIM + DATA.replace('[venues.lobster]\nid = 4\nkind = "data"\n', ""))
    with pytest.raises(ConfigError, match=r"GOOG|AAPL") as e:
        load_venues(p)
    assert e.value.key == "venues.lobster"


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('self_trade = "cancel_both"', 'self_trade = "kill"', "venues.sim.self_trade", "cancel_resting"),
        ('kind = "sim"', 'kind = "live"', "venues.sim.kind", "sim, data"),
        ("order_latency_us = 10", "order_latency_us = -1", "venues.sim.order_latency_us", "negative"),
        ("id = 1", "id = 70000", "venues.sim.id", "65535"),
        ("id = 1", "id = 2", "venues.binance-spot.id", "duplicate"),
        ('maker_fee_bps = "-0.5"', 'maker_fee_bps = "cheap"', "venues.sim.maker_fee_bps", "decimal"),
    ],
)
def test_bad_values_name_their_key(tmp_path, old, new, key, message):
    with pytest.raises(ConfigError, match=message) as e:
        load_venues(write(tmp_path, (SIM + DATA).replace(old, new, 1)))
    assert e.value.key == key


def test_market_tables_are_checked(tmp_path):
    bad_symbol = SIM + DATA + '[venues.sim.markets.NOPE]\nstart_price = "1"\n'
    with pytest.raises(ConfigError, match="NOPE") as e:
        load_venues(write(tmp_path, bad_symbol))
    assert e.value.key == "venues.sim.markets.NOPE"
    bad_key = SIM + DATA + '[venues.sim.markets.BTC-USD]\nstart_price = "1"\nlevelz = 3\n'
    with pytest.raises(ConfigError) as e:
        load_venues(write(tmp_path, bad_key))
    assert e.value.key == "venues.sim.markets.BTC-USD.levelz"
    bad_value = SIM + DATA + '[venues.sim.markets.BTC-USD]\nstart_price = "1"\nlevels = 1\n'
    with pytest.raises(ConfigError, match="levels") as e:
        load_venues(write(tmp_path, bad_value))
    assert e.value.key == "venues.sim.markets.BTC-USD.levels"


def test_asking_a_data_venue_for_sim_settings_says_so():
    with pytest.raises(KeyError, match="data venue"):
        load_venues().sim("lobster")
