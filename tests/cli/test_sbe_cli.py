"""`aerodesk sbe gen | check | decode` through Typer's CliRunner (the group mounted as in cli/main.py)."""

from __future__ import annotations

import importlib.util
import json
import re
import struct
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.sbe import app as sbe_app
from core.codec.messages import BookSnapshot, ExecutionReport, Heartbeat
from core.codec.project import SCHEMA_PATH

runner = CliRunner()


def make_app() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(sbe_app, name="sbe")

    @root.callback()
    def main() -> None:
        """test root"""

    return root


APP = make_app()


def run(*args: str) -> object:
    return runner.invoke(APP, ["sbe", *map(str, args)])


def test_gen_writes_one_importable_module_and_prints_its_path(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir"
    result = run("gen", SCHEMA_PATH, "--out", out)
    assert result.exit_code == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == out / "aerodesk_sbe.py" and path.is_file()
    spec = importlib.util.spec_from_file_location("_cli_gen_aerodesk", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_cli_gen_aerodesk"] = mod
    spec.loader.exec_module(mod)
    assert mod.Side.Buy == 1 and mod.SCHEMA_ID == 7001
    again = run("gen", SCHEMA_PATH, "--out", out)  # reuses the directory
    assert again.exit_code == 0 and Path(again.stdout.strip()) == path


def test_gen_binance_schema_names_the_module_after_the_package(shared_data: Path, tmp_path: Path) -> None:
    result = run("gen", shared_data / "sbe-binance-schema" / "stream_1_0.xml", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert Path(result.stdout.strip()).name == "spot_stream_sbe.py"


def test_gen_refuses_an_invalid_schema(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(SCHEMA_PATH.read_text().replace('type="Price"/>', 'type="Pryce"/>', 1))
    result = run("gen", bad, "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert re.search(r"bad\.xml:\d+: error: <field name=\"\w+\">: unknown type 'Pryce'", result.stderr)
    assert result.stdout == "" and not (tmp_path / "o").exists()


def test_check_ok_and_errors(tmp_path: Path, shared_data: Path) -> None:
    ok = run("check", SCHEMA_PATH)
    assert ok.exit_code == 0, ok.stderr
    assert "ok; 25 messages" in ok.stderr
    binance = run("check", shared_data / "sbe-binance-schema" / "spot_3_5.xml")
    assert binance.exit_code == 0 and "note: vendor attribute mbx:exponent ignored" in binance.stderr
    bad = tmp_path / "bad.xml"
    bad.write_text(
        SCHEMA_PATH.read_text().replace(
            '<sbe:message name="Trade" id="3"', '<sbe:message name="Trade" id="2"'
        )
    )
    result = run("check", bad)
    assert result.exit_code == 1
    line = next(i for i, t in enumerate(bad.read_text().splitlines(), 1) if 'name="Trade" id="2"' in t)
    assert f'bad.xml:{line}: error: <message name="Trade">: duplicate message id 2' in result.stderr
    as_json = run("check", bad, "--json")
    issues = [json.loads(x) for x in as_json.stdout.splitlines()]
    assert {
        "severity": "error",
        "line": line,
        "element": '<message name="Trade">',
        "message": "duplicate message id 2 (also BookDelta)",
    } in issues


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("check", tmp_path / "missing.xml").exit_code == 2
    assert run("gen", SCHEMA_PATH).exit_code == 2  # --out is required
    assert run("decode", SCHEMA_PATH, tmp_path / "missing.bin").exit_code == 2


def _messages() -> list[bytes]:
    levels = [(100 + i, 5 + i, 1) for i in range(3)]
    return [
        BookSnapshot.encode_bytes(1, 2, 3, 4, 5, 6, levels, levels[:1]),
        ExecutionReport.encode_bytes(
            1,
            2,
            0,
            3,
            4,
            5,
            6,
            7,
            "V1",
            9,
            "Trade",
            "Filled",
            "Sell",
            "Limit",
            "IOC",
            0,
            1,
            2,
            3,
            4,
            5,
            6,
            (1, -2),
            (3, -4),
            "None",
            1,
            2,
            3,
            "done",
        ),
        Heartbeat.encode_bytes(1, "oms", 42, "Running", 1, 2, 0, [("orders", 5)], "default"),
    ]


def test_decode_prints_json_lines(tmp_path: Path) -> None:
    msgs = _messages()
    f = tmp_path / "msgs.bin"
    f.write_bytes(b"".join(msgs))
    result = run("decode", SCHEMA_PATH, f)
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["message"] for x in lines] == ["BookSnapshot", "ExecutionReport", "Heartbeat"]
    assert [x["offset"] for x in lines] == [0, len(msgs[0]), len(msgs[0]) + len(msgs[1])]
    assert lines[0]["fields"]["bids"][2] == {"price": 102, "qty": 7, "orderCount": 1}
    assert lines[1]["fields"]["execType"] == "Trade" and lines[1]["fields"]["text"] == "done"
    assert lines[1]["fields"]["avgPx"] == {"mantissa": 1, "exponent": -2}
    assert lines[2]["fields"]["counters"] == [{"name": "orders", "value": 5}]
    assert "decoded 3 message(s)" in result.stderr


def test_decode_stops_at_a_bad_message_with_its_offset(tmp_path: Path) -> None:
    msgs = _messages()
    f = tmp_path / "msgs.bin"
    f.write_bytes(msgs[0] + msgs[1][:-3])
    result = run("decode", SCHEMA_PATH, f)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1  # what decoded before the error is printed
    assert f"error: message 2 at offset {len(msgs[0])}: truncated message" in result.stderr
    unknown = bytearray(msgs[2])
    struct.pack_into("<H", unknown, 2, 777)
    f.write_bytes(msgs[0] + bytes(unknown))
    result = run("decode", SCHEMA_PATH, f)
    assert result.exit_code == 1 and "unknown template id 777" in result.stderr


@pytest.mark.parametrize("cut", [0, 3])
def test_decode_standard_examples_with_sofh_framing(shared_data: Path, tmp_path: Path, cut: int) -> None:
    md = (shared_data / "sbe-spec" / "07Examples.md").read_text()
    blocks = re.findall(r"### Wire format[^\n]*\n(?:[^\n]*\n)*?```\n(.*?)```", md, re.S)
    data = b"".join(bytes.fromhex("".join(ln.split(":", 1)[0] for ln in b.splitlines())) for b in blocks)
    f = tmp_path / "examples.bin"
    f.write_bytes(data[: len(data) - cut])
    result = run("decode", shared_data / "sbe-spec" / "Examples.xml", f, "--framing", "sofh")
    names = [json.loads(x)["message"] for x in result.stdout.splitlines()]
    if cut == 0:
        assert result.exit_code == 0, result.stderr
        assert names == ["NewOrderSingle", "ExecutionReport", "BusinessMessageReject"]
    else:
        assert result.exit_code == 1 and names == ["NewOrderSingle", "ExecutionReport"]
        assert "SOFH frame at offset 152" in result.stderr
