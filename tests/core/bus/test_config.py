"""configs/channels.toml: strict loading, defaults, channel URIs; instance names."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bus import InstanceNameError, instance_dir, load_bus_config, resolve_instance, validate_instance
from core.bus.config import CONFIG_ENV, DEFAULT_STREAMS, default_bus_config
from core.config import ConfigError, configs_dir

EXPECTED_IDS = {
    "control": 10,
    "market_data": 20,
    "order_requests": 30,
    "venue_orders": 40,
    "venue_reports": 50,
    "state": 60,
    "heartbeats": 70,
}


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "channels.toml"
    p.write_text(text)
    return p


def test_shipped_config_defines_every_stream_with_the_documented_ids(monkeypatch):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    config = load_bus_config()
    assert config.source == configs_dir() / "channels.toml"
    assert {n: s.stream_id for n, s in config.streams.items()} == EXPECTED_IDS
    for s in config.streams.values():
        assert s.channel == "aeron:ipc"
        assert s.term_length & (s.term_length - 1) == 0
    # The shipped file states the same values as the built-in defaults.
    assert config.streams == default_bus_config().streams
    assert config.driver == default_bus_config().driver


def test_channel_uris_carry_term_length_and_tether(tmp_path):
    config = load_bus_config(write(tmp_path, "[streams.state]\nterm_length = 131072\n"))
    state = config.stream("state")
    assert state.publication_channel() == "aeron:ipc?term-length=131072"
    assert state.subscription_channel() == "aeron:ipc"
    assert state.subscription_channel(tether=False) == "aeron:ipc?tether=false"
    assert state.max_message_length == 16384
    assert config.stream("control").term_length == DEFAULT_STREAMS["control"][1]  # unmentioned: default


def test_udp_channel_params_are_kept(tmp_path):
    text = '[streams.market_data]\nchannel = "aeron:udp?endpoint=10.0.0.5:40456|interface=10.0.0.0/24"\n'
    md = load_bus_config(write(tmp_path, text)).stream("market_data")
    assert (
        md.publication_channel()
        == "aeron:udp?endpoint=10.0.0.5:40456|interface=10.0.0.0/24|term-length=2097152"
    )
    assert md.subscription_channel(tether=False).endswith("|tether=false")


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("[streams.state]\nterm_lenght = 65536\n", "streams.state.term_lenght", "unknown key"),
        ("[streams.orders]\nstream_id = 99\n", "streams.orders", "unknown key"),
        ("[driver]\nthreads = 2\n", "driver.threads", "unknown key"),
        ("[bus]\n", "bus", "unknown key"),
        ("[streams.state]\nterm_length = 100000\n", "streams.state.term_length", "power of two"),
        ("[streams.state]\nterm_length = 32768\n", "streams.state.term_length", "power of two from 65536"),
        ("[streams.state]\nstream_id = 0\n", "streams.state.stream_id", "between 1 and"),
        ('[streams.state]\nstream_id = "60"\n', "streams.state.stream_id", "expected an integer"),
        ("[streams.state]\nstream_id = 10\n", "streams.state.stream_id", "already used by stream control"),
        ('[streams.state]\nchannel = "tcp://x"\n', "streams.state.channel", "must be aeron:ipc"),
        ('[streams.state]\nchannel = "aeron:udp"\n', "streams.state.channel", "needs endpoint"),
        (
            '[streams.state]\nchannel = "aeron:ipc?term-length=65536"\n',
            "streams.state.channel",
            "term_length",
        ),
        ("[driver]\ndriver_timeout_ms = 10\n", "driver.driver_timeout_ms", ">= 1000"),
        ('[driver]\nthreading = "invoker"\n', "driver.threading", "must be one of"),
        ("[driver]\ncounters_buffer_length = 65536\n", "driver.counters_buffer_length", "power of two"),
        (
            "[driver]\nuntethered_window_limit_timeout_ms = 100\n",
            "driver.untethered_window_limit_timeout_ms",
            ">=",
        ),
    ],
)
def test_bad_config_names_file_key_and_reason(tmp_path, text, key, reason):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_bus_config(path)
    assert e.value.file == str(path)
    assert e.value.key == key
    assert reason in e.value.reason


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_bus_config(tmp_path / "nope.toml")


def test_env_overrides_the_path(tmp_path, monkeypatch):
    path = write(tmp_path, "[streams.heartbeats]\nstream_id = 1070\n")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert load_bus_config().stream("heartbeats").stream_id == 1070


def test_unknown_stream_lookup_lists_the_streams():
    with pytest.raises(KeyError, match="market_data"):
        default_bus_config().stream("md")


def test_driver_environment_is_what_the_c_driver_reads(tmp_path):
    config = load_bus_config(
        write(tmp_path, "[driver]\ndriver_timeout_ms = 2500\ncounters_buffer_length = 2097152\n")
    )
    env = config.driver.environment()
    assert env["AERON_DRIVER_TIMEOUT"] == "2500"
    assert env["AERON_COUNTERS_BUFFER_LENGTH"] == "2097152"
    assert config.driver.cnc_file_length() == (2 + 5 * 2 + 4) * (1 << 20) + 4096


@pytest.mark.parametrize("name", ["default", "demo", "test-1a2b3c4d", "desk_2.prod", "A"])
def test_valid_instance_names(name):
    assert validate_instance(name) == name
    assert instance_dir(name) == Path("/dev/shm") / f"aerodesk-{name}"


@pytest.mark.parametrize("name", ["", "../x", "a/b", "-x", ".hidden", "a..b", "sp ace", "x" * 65, "é"])
def test_unsafe_instance_names_are_refused(name):
    with pytest.raises(InstanceNameError, match="invalid desk instance name"):
        validate_instance(name)


def test_instance_from_argument_env_or_default(monkeypatch):
    monkeypatch.delenv("AERODESK_INSTANCE", raising=False)
    assert resolve_instance() == "default"
    monkeypatch.setenv("AERODESK_INSTANCE", "fromenv")
    assert resolve_instance() == "fromenv"
    assert resolve_instance("explicit") == "explicit"
    monkeypatch.setenv("AERODESK_INSTANCE", "bad/env")
    with pytest.raises(InstanceNameError):
        resolve_instance()
