"""Strategy configuration: the shipped file loads; every kind of mistake is a ConfigError naming the file
and the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from core.config import ConfigError
from core.strategy import HostConfig, load_class, load_strategies, strategy_spec
from core.strategy.builtin.market_maker import MarketMaker
from core.strategy.builtin.pairs import PairsTrader
from tests.core.strategy.helpers import CATALOG, RECORDER

MM = "core.strategy.builtin.market_maker:MarketMaker"
MM_PARAMS = """
instrument = "BTC-USD"
quote_size = "0.05"
max_position = "1"
spread_ticks = 40
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "strategies.toml"
    p.write_text(text)
    return p


def mm_file(
    tmp_path: Path, extra_strategy: str = "", extra_params: str = "", params: str = MM_PARAMS
) -> Path:
    return write(
        tmp_path,
        f"""
[strategies.mm]
id = 1
class = "{MM}"
{extra_strategy}
[strategies.mm.params]
{params}
{extra_params}
""",
    )


def error_of(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as e:
        load_strategies(path, CATALOG)
    return e.value


def test_the_shipped_config_loads_the_demo_strategies() -> None:
    cfg = load_strategies()
    by_name = {s.name: s for s in cfg.strategies}
    mm = by_name["demo-mm"]
    assert mm.strategy_id == 1 and mm.cls is MarketMaker
    assert [i.symbol for i in mm.instruments] == ["BTC-USD"]
    assert mm.params.quote_size == Decimal("0.01")
    pairs = by_name["btc-eth-pairs"]
    assert pairs.cls is PairsTrader
    assert [i.symbol for i in pairs.instruments] == ["BTC-USD", "ETH-USD"]
    assert len({s.strategy_id for s in cfg.strategies}) == len(cfg.strategies)
    assert cfg.host.client_id == 100 and cfg.host.on_error == "disable"
    assert cfg.enabled() == list(cfg.strategies)


def test_a_minimal_file_gets_host_defaults(tmp_path: Path) -> None:
    cfg = load_strategies(mm_file(tmp_path), CATALOG)
    assert cfg.host == HostConfig()
    assert cfg.get("mm").params.spread_ticks == 40
    with pytest.raises(KeyError, match=r"no strategy named 'nope'.*mm"):
        cfg.get("nope")


def test_unknown_strategy_key_names_file_and_key(tmp_path: Path) -> None:
    path = mm_file(tmp_path, extra_strategy="colour = 'red'")
    err = error_of(path)
    assert err.file == str(path) and err.key == "strategies.mm.colour"
    assert "unknown key" in str(err)


def test_unknown_parameter_lists_the_parameters(tmp_path: Path) -> None:
    err = error_of(mm_file(tmp_path, extra_params="sprad_ticks = 3"))
    assert err.key == "strategies.mm.params.sprad_ticks"
    assert "unknown parameter" in err.reason and "spread_ticks" in err.reason


def test_missing_required_parameter(tmp_path: Path) -> None:
    err = error_of(mm_file(tmp_path, params='instrument = "BTC-USD"\nquote_size = "0.05"\nspread_ticks = 4'))
    assert err.key == "strategies.mm.params.max_position"
    assert "required parameter is missing" in err.reason


def test_wrong_type_of_parameter(tmp_path: Path) -> None:
    err = error_of(mm_file(tmp_path, params=MM_PARAMS.replace("spread_ticks = 40", 'spread_ticks = "forty"')))
    assert err.key == "strategies.mm.params.spread_ticks" and "integer" in err.reason


def test_unknown_instrument(tmp_path: Path) -> None:
    err = error_of(mm_file(tmp_path, params=MM_PARAMS.replace('"BTC-USD"', '"DOGE-USD"')))
    assert err.key == "strategies.mm.params.instrument" and "unknown instrument 'DOGE-USD'" in err.reason


def test_parameter_checks_of_the_strategy_name_the_parameter(tmp_path: Path) -> None:
    both = error_of(mm_file(tmp_path, extra_params='spread_bps = "2"'))
    assert both.key == "strategies.mm.params.spread_ticks" and "exactly one" in both.reason
    finer = error_of(mm_file(tmp_path, params=MM_PARAMS.replace('"0.05"', '"0.00001"')))
    assert finer.key == "strategies.mm.params.quote_size" and "finer than" in finer.reason


def test_literal_parameter_choices(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[strategies.p]
id = 2
class = "core.strategy.builtin.pairs:PairsTrader"
[strategies.p.params]
leg_a = "BTC-USD"
leg_b = "ETH-USD"
qty_a = "0.1"
estimator = "neural"
""",
    )
    err = error_of(path)
    assert err.key == "strategies.p.params.estimator" and "ols, kalman" in err.reason


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("core.strategy.nonexistent:Thing", "cannot import module 'core.strategy.nonexistent'"),
        ("core.strategy.builtin.market_maker:Nope", "has no attribute 'Nope'"),
        ("tests.core.strategy.strategies:NotAStrategy", "is not a Strategy subclass"),
        ("MarketMaker", "expected 'package.module:Class'"),
    ],
)
def test_bad_class_paths(tmp_path: Path, path: str, why: str) -> None:
    err = error_of(write(tmp_path, f'[strategies.x]\nid = 1\nclass = "{path}"\n[strategies.x.params]\n'))
    assert err.key == "strategies.x.class" and why in err.reason
    with pytest.raises(ValueError, match=why.split("'")[0]):
        load_class(path)


def test_duplicate_strategy_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[strategies.a]
id = 5
class = "{RECORDER}"
params = {{ instrument = "BTC-USD" }}
[strategies.b]
id = 5
class = "{RECORDER}"
params = {{ instrument = "ETH-USD" }}
""",
    )
    err = error_of(path)
    assert err.key == "strategies.b.id" and "already used by 'a'" in err.reason


def test_bad_ids_names_and_host_settings(tmp_path: Path) -> None:
    assert error_of(mm_file(tmp_path).parent / "x.toml").reason == "file not found"
    zero = error_of(write(tmp_path, f'[strategies.a]\nid = 0\nclass = "{MM}"\n'))
    assert zero.key == "strategies.a.id"
    bad_name = error_of(write(tmp_path, f'[strategies."a b"]\nid = 1\nclass = "{MM}"\n'))
    assert "strategy name" in bad_name.reason
    host = error_of(write(tmp_path, '[host]\non_error = "ignore"\n[strategies]\n'))
    assert host.key == "host.on_error" and "disable, continue" in host.reason
    empty = error_of(write(tmp_path, "[host]\n[strategies]\n"))
    assert empty.key == "strategies" and "no strategies" in empty.reason
    typo = error_of(write(tmp_path, "[hots]\n[strategies]\n"))
    assert typo.key == "hots"


def test_a_strategy_without_params_refuses_any(tmp_path: Path) -> None:
    cls = "tests.core.strategy.strategies:NoParams"
    spec = strategy_spec("np", 9, cls, {}, CATALOG)
    assert spec.params is None and spec.instruments == ()
    with pytest.raises(ConfigError, match="takes no parameters") as e:
        strategy_spec("np", 9, cls, {"x": 1}, CATALOG)
    assert e.value.key == "strategies.np.params.x"


def test_specs_built_in_code_are_checked_the_same_way() -> None:
    spec = strategy_spec("rec", 3, RECORDER, {"instrument": "ETH-USD", "other": "BTC-USD"}, CATALOG)
    assert [i.symbol for i in spec.instruments] == ["ETH-USD", "BTC-USD"]
    with pytest.raises(ConfigError) as e:
        strategy_spec("rec", 3, RECORDER, {"instrument": 7}, CATALOG)
    assert e.value.file == "<code>" and e.value.key == "strategies.rec.params.instrument"
