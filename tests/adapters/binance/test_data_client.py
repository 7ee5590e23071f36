"""The market-data client on real venue messages: wrappers, message kinds, bad input."""

from __future__ import annotations

import json

import pytest

from adapters.binance.config import BinanceDataClientConfig, BinanceMarket
from adapters.binance.data import BadMessageError, BinanceDataClient
from adapters.binance.providers import BinanceInstrumentProvider
from core.instruments import InstrumentCatalog
from core.marketdata.events import Aggressor, TopOfBookEvent, TradeEvent


def client(market: BinanceMarket, **kwargs) -> BinanceDataClient:
    return BinanceDataClient(BinanceDataClientConfig(market=market, **kwargs))


def payload(line: str) -> str:
    return line.split(" ", 1)[1]


def first(lines, stream_suffix):
    return next(payload(line) for line in lines if f'@{stream_suffix}"' in line)


def test_combined_wrapper_and_bare_event_give_the_same_events(usdm_lines):
    for suffix in ("trade", "bookTicker"):
        wrapped = first(usdm_lines, suffix)
        bare = json.dumps(json.loads(wrapped)["data"])
        a = client(BinanceMarket.USDM).on_message(wrapped, 5)
        b = client(BinanceMarket.USDM).on_message(bare, 5)
        assert a == b and len(a) == 1


def test_spot_bookticker_has_no_event_type_and_is_still_recognised(spot_lines):
    text = first(spot_lines, "bookTicker")
    assert '"e"' not in text
    (event,) = client(BinanceMarket.SPOT).on_message(text, 7)
    assert isinstance(event, TopOfBookEvent)
    venue = json.loads(text)["data"]
    assert event.venue_seq == venue["u"] and event.receive_ts_ns == 7 and event.exchange_ts_ns == 0


def test_aggregate_trade():
    # The venue's documented aggTrade shape.
    msg = {
        "e": "aggTrade", "E": 1723161255343, "s": "BTCUSDT", "a": 26129, "p": "61837.60",
        "q": "0.120", "f": 100, "l": 105, "T": 1723161255342, "m": False,
    }  # fmt: skip
    (event,) = client(BinanceMarket.USDM).on_message({"stream": "btcusdt@aggTrade", "data": msg}, 1)
    assert isinstance(event, TradeEvent) and event.is_aggregate
    assert event.trade_id == 26129 and event.aggressor is Aggressor.BUY
    assert event.price == 618376 and event.qty == 120  # USD-M BTCUSDT static data: 1e-1, 1e-3


T = '"e": "trade", "E": 1, "s": "BTCUSDT", "t": 1, "T": 1'


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("{not json", "json"),
        ("[1, 2]", "json"),
        ('{"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 1, "u": 2, "b": []}', "depthUpdate"),  # no asks
        ('{"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 5, "u": 2, "b": [], "a": []}', "depthUpdate"),
        (
            '{"e": "trade", "E": 1, "s": "BTCUSDT", "t": 1, "p": 61837.63, "q": "1", "T": 1, "m": true}',
            "trade",
        ),
        (
            '{"e": "trade", "E": 1, "s": "BTCUSDT", "t": 1, "p": "6.1.3", "q": "1", "T": 1, "m": true}',
            "trade",
        ),
        ('{"e": "trade", "E": 1, "s": "BTCUSDT", "t": 1, "p": "1.00", "q": "-1", "T": 1, "m": 1}', "trade"),
        ('{"stream": "x@trade", "data": 5}', "wrapper"),
        ('{"lastUpdateId": 1, "bids": [], "asks": []}', "snapshot"),  # names no symbol, client has none
    ],
)
def test_bad_messages_raise_a_clear_error_and_are_counted_by_handle(raw, kind):
    c = client(BinanceMarket.SPOT)
    with pytest.raises(BadMessageError) as err:
        c.on_message(raw, 0)
    assert err.value.kind == kind
    assert c.handle(raw, 0) == []
    assert c.stats.bad[kind] == 1 and c.stats.bad_examples


def test_futures_depth_on_a_spot_client_is_refused(usdm_lines):
    text = first(usdm_lines, "depth@0ms")
    with pytest.raises(BadMessageError, match="USD-M"):
        client(BinanceMarket.SPOT).on_message(text, 0)


def test_finer_than_static_data_is_refused_not_rounded():
    msg = '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"61800.25","q":"0.001","T":1,"m":true,"X":"MARKET"}'
    with pytest.raises(BadMessageError, match="finer than"):
        client(BinanceMarket.USDM).on_message(msg, 0)  # USD-M BTCUSDT ticks are 0.1


def test_responses_and_other_symbols_are_ignored_and_counted(usdm_lines):
    c = client(BinanceMarket.USDM, symbols=("ETHUSDT",))
    assert c.on_message('{"result": null, "id": 1}', 0) == []
    assert c.on_message(first(usdm_lines, "trade"), 0) == []
    assert c.stats.ignored["response"] == 1 and c.stats.ignored["symbol"] == 1


def test_unconfigured_symbol_gets_exponents_from_the_data():
    c = BinanceDataClient(
        BinanceDataClientConfig(market=BinanceMarket.SPOT),
        BinanceInstrumentProvider(BinanceMarket.SPOT, InstrumentCatalog([])),
    )
    msg = '{"e":"trade","E":1,"s":"DOGEUSDT","t":9,"p":"0.10250000","q":"1200.00000000","T":1,"m":false}'
    (event,) = c.on_message(msg, 0)
    inst = c.instruments["DOGEUSDT"]
    assert (inst.id, inst.price_exponent, inst.qty_exponent, inst.base, inst.quote) == (
        0,
        -8,
        -8,
        "DOGE",
        "USDT",
    )
    assert event.price == 10_250_000 and event.qty == 120_000_000_000
