"""configs/risk.toml: strict loading, override resolution, and errors that name the file and the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from core.config import ConfigError
from core.instruments import load_instruments
from core.risk.config import load_risk_config
from core.risk.limits import SPECS, LimitError, LimitStore

CATALOG = load_instruments()


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "risk.toml"
    p.write_text(text)
    return p


BASE = """
[desk]
currency = "USD"
[fx]
USDT = "1"
"""


def test_the_shipped_risk_toml_loads_and_every_limit_it_sets_is_known():
    cfg = load_risk_config(catalog=CATALOG)
    assert cfg.currency == "USD"
    names = {name for (name, _s, _i), _v in cfg.limits.items()}
    assert names <= set(SPECS)
    assert cfg.limits.get("daily_loss") is not None  # a desk without a loss limit is a config mistake
    btc = CATALOG.resolve("BTC-USD").id
    # the shipped strategy override is more specific than the instrument's
    assert cfg.limits.get("max_position", 1, btc) < cfg.limits.get("max_position", 2, btc)


def test_overrides_by_desk_strategy_and_instrument(tmp_path):
    p = write(
        tmp_path,
        BASE
        + """
[limits]
max_order_qty = "3"
daily_loss = "1000"
[instruments.BTC-USD]
max_order_qty = "1"
[strategies.7]
name = "arb"
account_id = 2
max_order_qty = "2"
daily_loss = "100"
deadman_ms = 1500
[strategies.7.instruments.BTC-USD]
max_order_qty = "0.5"
""",
    )
    cfg = load_risk_config(p, CATALOG)
    g = cfg.limits.get
    assert g("max_order_qty", 7, 1) == Decimal("0.5")
    assert g("max_order_qty", 7, 2) == 2
    assert g("max_order_qty", 8, 1) == 1
    assert g("max_order_qty", 8, 2) == 3
    assert g("daily_loss", 0, 0) == 1000 and g("daily_loss", 7, 0) == 100
    assert g("daily_loss", 8, 0) is None  # a strategy's loss limit is its own, never the desk's
    assert cfg.account_of(7) == 2 and cfg.account_of(8) == 1
    assert cfg.strategies[7].name == "arb"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[limits]\nmax_order_qyt = 1\n", "limits.max_order_qyt", "unknown key"),
        ("[limits]\nmax_order_qty = -1\n", "limits.max_order_qty", "must not be negative"),
        ('[limits]\norder_rate = "1.5"\n', "limits.order_rate", "whole number"),
        ("[instruments.NOPE]\nmax_order_qty = 1\n", "instruments.NOPE", "unknown instrument"),
        (
            "[instruments.BTC-USD]\nmax_gross_exposure = 1\n",
            "instruments.BTC-USD.max_gross_exposure",
            "desk-wide",
        ),
        ("[strategies.abc]\nmax_open_orders = 1\n", "strategies.abc", "numeric strategy id"),
        ('[strategies.3]\nnmae = "x"\n', "strategies.3.nmae", "unknown key"),
        ("[desk2]\n", "desk2", "unknown key"),
    ],
)
def test_bad_keys_and_values_name_the_file_and_key(tmp_path, text, key, words):
    p = write(tmp_path, BASE + text)
    with pytest.raises(ConfigError) as e:
        load_risk_config(p, CATALOG)
    assert e.value.file == str(p)
    assert e.value.key == key
    assert words in e.value.reason


def test_missing_fx_rate_for_a_quote_currency_is_an_error(tmp_path):
    p = write(tmp_path, '[desk]\ncurrency = "USD"\n')
    with pytest.raises(ConfigError) as e:
        load_risk_config(p, CATALOG)
    assert e.value.key == "fx" and "USDT" in e.value.reason


def test_time_of_day_of_the_daily_roll(tmp_path):
    assert (
        load_risk_config(
            write(tmp_path, BASE.replace('currency = "USD"', 'daily_roll_utc = "21:30"')), CATALOG
        ).daily_roll_ns
        == (21 * 3600 + 30 * 60) * 10**9
    )
    with pytest.raises(ConfigError, match="HH:MM"):
        load_risk_config(
            write(tmp_path, BASE.replace('currency = "USD"', 'daily_roll_utc = "25:00"')), CATALOG
        )


def test_limit_store_refuses_unknown_names_and_bad_scopes():
    store = LimitStore()
    with pytest.raises(LimitError, match="unknown limit"):
        store.set("max_qty", 0, 0, Decimal(1))
    with pytest.raises(LimitError, match="desk-wide"):
        store.set("max_gross_exposure", 3, 0, Decimal(1))
    with pytest.raises(LimitError, match="0 or 1"):
        store.set("allow_no_reference", 0, 0, Decimal(2))
    assert store.set("max_order_qty", 0, 0, Decimal(1)) is None
    assert store.set("max_order_qty", 0, 0, Decimal(2)) == 1  # returns the value it replaced
    v = store.version
    store.set("max_order_qty", 1, 0, Decimal(3))
    assert store.version == v + 1
