"""Static data lookup, configuration and the refusal of live order entry."""

from __future__ import annotations

import pytest

from adapters.binance import BinanceExecutionClient, LiveOrderEntryNotBuiltError
from adapters.binance.config import BinanceDataClientConfig, BinanceMarket
from adapters.binance.execution import create_execution_client
from adapters.binance.providers import BinanceInstrumentProvider
from core.config.base import ConfigError, Table
from core.instruments import load_instruments


def test_static_instruments_are_found_by_venue_and_venue_symbol():
    catalog = load_instruments()
    usdm = BinanceInstrumentProvider(BinanceMarket.USDM, catalog).instrument("btcusdt")
    assert usdm.symbol == "BTCUSDT-PERP" and usdm.venue == "binance-usdm" and usdm.id == 102
    spot = BinanceInstrumentProvider(BinanceMarket.SPOT, catalog).instrument("BTCUSDT")
    assert spot.venue == "binance-spot" and spot.id == 101


def test_inference_needs_data_and_is_cached():
    p = BinanceInstrumentProvider(BinanceMarket.USDM, load_instruments())
    with pytest.raises(ValueError, match="no prices"):
        p.instrument("XRPUSDT")
    inst = p.instrument("XRPUSDT", ["0.5123", "0.51"], ["10.0"])
    assert (inst.price_exponent, inst.qty_exponent, inst.kind) == (-4, -1, "perpetual")
    assert p.instrument("XRPUSDT") is inst


def test_static_data_fits_the_real_captures(spot_raw, usdm_raw):
    """The shipped exponents must hold every price and quantity the venue really sends."""
    catalog = load_instruments()
    for raw, market in ((spot_raw, BinanceMarket.SPOT), (usdm_raw, BinanceMarket.USDM)):
        inst = BinanceInstrumentProvider(market, catalog).instrument("BTCUSDT")
        values = [lvl for d in raw.diffs for lvl in d["b"] + d["a"]] + [(t["p"], t["q"]) for t in raw.trades]
        finest = {
            "price": max(len(p.partition(".")[2].rstrip("0")) for p, _ in values),
            "qty": max(len(q.partition(".")[2].rstrip("0")) for _, q in values),
        }
        assert -inst.price_exponent >= finest["price"], f"{inst.symbol}: price needs 1e-{finest['price']}"
        assert -inst.qty_exponent >= finest["qty"], (
            f"{inst.symbol}@{inst.venue}: configs/instruments.toml has qty_exponent {inst.qty_exponent}, "
            f"the venue's book holds quantities to 1e-{finest['qty']}"
        )


def _table(**values):
    return Table(values, "venues.toml", "binance")


def test_config_from_strict_toml():
    config = BinanceDataClientConfig.from_table(
        _table(market="binance-usdm", symbols=["btcusdt"], book="reference")
    )
    assert config.market is BinanceMarket.USDM and config.symbols == ("BTCUSDT",)
    assert config.book == "reference"
    with pytest.raises(ConfigError, match="unknown key"):
        BinanceDataClientConfig.from_table(_table(market="spot", symbol="x"))
    with pytest.raises(ConfigError, match=r"binance\.market"):
        BinanceDataClientConfig.from_table(_table(market="coin-m"))
    with pytest.raises(ConfigError, match="book"):
        BinanceDataClientConfig.from_table(_table(market="spot", book="turbo"))


def test_live_order_entry_is_refused_with_a_clear_error():
    with pytest.raises(NotImplementedError, match="live Binance order entry is not built"):
        BinanceExecutionClient("api-key", "secret")
    with pytest.raises(LiveOrderEntryNotBuiltError):
        create_execution_client()
