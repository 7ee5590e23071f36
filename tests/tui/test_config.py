"""configs/tui.toml: strict loading, remappable keys, clear errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError
from tui.config import BINDINGS, default_path, load_tui_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "tui.toml"
    p.write_text(text)
    return p


def test_the_shipped_file_loads_and_binds_every_action() -> None:
    c = load_tui_config()
    assert c.path == default_path()
    assert set(c.keys) == set(BINDINGS)
    assert c.keys["kill"] == "k" and c.theme == "dark"
    keys = [k for v in c.keys.values() for k in v.split(",")]
    assert len(keys) == len(set(keys)), "the shipped file binds one key twice"


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    c = load_tui_config(write(tmp_path, ""))
    assert c.render_hz == 15 and c.model.depth == 10 and c.keys["quit"] == "q"
    assert c.model.rules.stale_after_ns == 3_000_000_000


def test_keys_are_remappable(tmp_path: Path) -> None:
    c = load_tui_config(write(tmp_path, '[keys]\nkill = "ctrl+k"\nquit = "q,ctrl+q"\n'))
    assert c.keys["kill"] == "ctrl+k" and c.keys["quit"] == "q,ctrl+q" and c.keys["release"] == "K"


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("[display]\nthem = 'dark'\n", "display.them", "unknown key"),
        ("[display]\ntheme = 'blue'\n", "display.theme", "dark, light"),
        ("[display]\nrender_hz = 100\n", "display.render_hz", "between 5 and 30"),
        ("[timing]\nstale_after_ms = 'soon'\n", "timing.stale_after_ms", "expected an integer"),
        ("[keys]\nkil = 'k'\n", "keys.kil", "unknown binding"),
        ("[keys]\nflatten = 'k'\n", "keys.", "already bound"),
        ("[keys]\nkill = ''\n", "keys.kill", "key name"),
        ("[colours]\n", "colours", "unknown key"),
    ],
)
def test_bad_settings_are_refused_with_file_and_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_tui_config(p)
    assert e.value.file == str(p)
    assert e.value.key.startswith(key)
    assert reason in e.value.reason


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_tui_config(tmp_path / "nope.toml")
