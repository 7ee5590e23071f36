from decimal import Decimal

import pytest

from core.config import ConfigError
from core.instruments import load_instruments


def test_shipped_instruments_load_and_have_unique_ids():
    cat = load_instruments()
    ids = [i.id for i in cat]
    assert len(ids) == len(set(ids)) >= 3
    btc = cat.resolve("BTC-USD")
    assert btc.venue == "sim"
    assert btc.price(123456) == Decimal("1234.56")
    assert btc.price_mantissa("1234.56") == 123456


def test_mantissa_rejects_values_finer_than_the_exponent():
    btc = load_instruments().resolve("BTC-USD")
    with pytest.raises(ValueError, match="finer"):
        btc.price_mantissa("1.001")


def test_inverse_notional_is_in_base_currency():
    perp = load_instruments().resolve("BTC-PERP")
    # 10 contracts of 100 USD at 50000.0 USD -> 1000/50000 BTC
    assert perp.notional(500000, 10) == Decimal("0.02")


def test_linear_notional_is_exact():
    btc = load_instruments().resolve("BTC-USD")
    assert btc.notional(btc.price_mantissa("60000.01"), btc.qty_mantissa("0.3333")) == Decimal("19998.003333")


def test_venue_symbol_resolves(tmp_path):
    cat = load_instruments()
    assert cat.find("BTCUSDT", venue="binance-usdm").id == 102


def _write(tmp_path, body):
    p = tmp_path / "instruments.toml"
    p.write_text(body)
    return p


BASE = """
[[instrument]]
id = 1
symbol = "X"
venue = "sim"
base = "X"
quote = "USD"
price_exponent = -2
qty_exponent = 0
"""


def test_unknown_key_is_an_error_naming_file_and_key(tmp_path):
    p = _write(tmp_path, BASE + "tick_szie = 5\n")
    with pytest.raises(ConfigError) as e:
        load_instruments(p)
    assert "instrument[0].tick_szie" in str(e.value)
    assert str(p) in str(e.value)


def test_duplicate_id_is_an_error(tmp_path):
    p = _write(tmp_path, BASE + BASE.replace('"X"', '"Y"'))
    with pytest.raises(ConfigError, match="duplicate instrument id 1"):
        load_instruments(p)


def test_wrong_type_is_an_error(tmp_path):
    p = _write(tmp_path, BASE.replace("price_exponent = -2", 'price_exponent = "-2"'))
    with pytest.raises(ConfigError, match="price_exponent: expected an integer"):
        load_instruments(p)


def test_bad_toml_is_an_error(tmp_path):
    p = _write(tmp_path, "[[instrument]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_instruments(p)


def test_unknown_symbol_lists_known_ones():
    with pytest.raises(KeyError, match="known: "):
        load_instruments().resolve("NOPE")
