"""The manual order ticket: decimals converted exactly with the instrument's exponents; bad input is
refused naming the field."""

from __future__ import annotations

import pytest

from core.codec.messages import OrdType, Side, TimeInForce
from core.instruments import load_instruments
from tui.ticket import TicketError, TicketInput, parse_ticket

CATALOG = load_instruments()


def test_a_limit_order_converts_exactly() -> None:
    o = parse_ticket(CATALOG, TicketInput("BTC-USD", "buy", "0.05", "60000.50", "limit", "IOC"))
    # BTC-USD: price exponent -2, quantity exponent -4
    assert (o.instrument_id, o.side, o.qty, o.price) == (1, Side.Buy, 500, 6000050)
    assert o.ord_type == OrdType.Limit and o.tif == TimeInForce.IOC


def test_values_that_floats_would_round_stay_exact() -> None:
    o = parse_ticket(CATALOG, TicketInput("ETH-USD", "sell", "0.001", "2999.99"))
    assert (o.qty, o.price) == (1, 299999)  # 0.001 ETH at exponent -3; 2999.99 at -2
    big = parse_ticket(CATALOG, TicketInput("BTC-USD", "buy", "99.9999", "1234567.89"))
    assert (big.qty, big.price) == (999999, 123456789)


def test_a_market_order_has_no_price() -> None:
    o = parse_ticket(CATALOG, TicketInput("BTC-PERP", "sell", "3", "", "market"))
    assert o.price is None and o.ord_type == OrdType.Market and o.qty == 3
    with pytest.raises(TicketError) as e:
        parse_ticket(CATALOG, TicketInput("BTC-PERP", "sell", "3", "60000", "market"))
    assert e.value.field == "price"


@pytest.mark.parametrize(
    ("ticket", "field", "message"),
    [
        (TicketInput("DOGE", "buy", "1", "1"), "instrument", "unknown instrument"),
        (TicketInput("BTC-USD", "hold", "1", "1"), "side", "buy or sell"),
        (TicketInput("BTC-USD", "buy", "", "1"), "qty", "required"),
        (TicketInput("BTC-USD", "buy", "1e", "1"), "qty", "not a decimal"),
        (TicketInput("BTC-USD", "buy", "nan", "1"), "qty", "not a decimal"),
        (TicketInput("BTC-USD", "buy", "-1", "1"), "qty", "positive"),
        (TicketInput("BTC-USD", "buy", "0.00001", "1"), "qty", "steps of 0.0001"),
        (TicketInput("BTC-USD", "buy", "101", "1"), "qty", "above the maximum 100.0000"),
        (TicketInput("BTC-USD", "buy", "1", "60000.001"), "price", "steps of 0.01"),
        (TicketInput("BTC-PERP", "buy", "1", "60000.3"), "price", "on the tick 0.5"),
        (TicketInput("BTC-USD", "buy", "1", "0"), "price", "positive"),
        (TicketInput("BTC-USD", "buy", "1", ""), "price", "required"),
        (TicketInput("BTC-USD", "buy", "1", "1", "stop"), "type", "limit or market"),
        (TicketInput("BTC-USD", "buy", "1", "1", "limit", "GTD"), "tif", "GTC"),
    ],
)
def test_bad_input_names_the_field(ticket: TicketInput, field: str, message: str) -> None:
    with pytest.raises(TicketError) as e:
        parse_ticket(CATALOG, ticket)
    assert e.value.field == field
    assert message in e.value.message
