import json
import subprocess
import sys

from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def test_version_prints_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("aerodesk ")
    assert result.output.split()[1][0].isdigit()


def test_help_lists_command_groups():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output


def test_unknown_command_is_usage_error():
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "cli", "--version"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("aerodesk ")


def test_demo_and_tui_are_commands():
    for command in ("demo", "tui"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, result.output
        assert "--read-only" in result.output


def test_bench_group_lists_benchmarks():
    result = runner.invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    for name in ("codec", "bus", "journal"):
        assert name in result.output


def test_bench_option_a_benchmark_does_not_take_is_a_usage_error():
    result = runner.invoke(app, ["bench", "codec", "--busy-spin"])
    assert result.exit_code == 2
    assert "no --busy-spin option" in result.output


def test_bench_l3_runs_on_a_real_lobster_file(shared_data):
    aapl = next((shared_data / "lobster").glob("*AAPL*.zip"))
    result = runner.invoke(app, ["bench", "l3", "--quick", "--json", "--data", str(aapl)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    names = [c["name"] for c in report["cases"]]
    assert any("LOBSTER replay" in n for n in names)
    assert str(aapl) in report["title"]


def test_bench_oms_quick_is_a_smaller_run_with_every_case():
    result = runner.invoke(app, ["bench", "oms", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["title"].startswith("oms: 20,000 risk checks, 2,000 orders")
    names = [c["name"] for c in report["cases"]]
    assert any(n.startswith("pre-trade risk checks") for n in names)
    assert any(n.startswith("kill switch") for n in names)
    for name in ("latency", "mdreplay", "tui"):
        assert name in runner.invoke(app, ["bench", "--help"]).output
