"""`aerodesk tui` on the command line: clear errors and exit codes before any screen is drawn."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from cli.exit_codes import ExitCode
from cli.tui import tui

app = typer.Typer()
app.command()(tui)
runner = CliRunner()


def test_a_desk_that_is_not_running_exits_3_naming_it() -> None:
    result = runner.invoke(app, ["--instance", "test-tui-nobody-here"])
    assert result.exit_code == ExitCode.NOT_RUNNING
    assert "desk test-tui-nobody-here is not running" in result.output
    assert "/dev/shm/aerodesk-test-tui-nobody-here" in result.output and "--wait" in result.output


def test_bad_arguments_exit_2() -> None:
    bad_theme = runner.invoke(app, ["--instance", "x", "--theme", "pink", "--wait"])
    assert bad_theme.exit_code == ExitCode.USAGE and "dark or light" in bad_theme.output
    bad_name = runner.invoke(app, ["--instance", "../etc"])
    assert bad_name.exit_code == ExitCode.USAGE and "invalid desk instance name" in bad_name.output


def test_a_bad_settings_file_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "tui.toml"
    cfg.write_text("[keys]\nkill = 'q'\n")  # q already quits
    result = runner.invoke(app, ["--instance", "x", "--wait", "--config", str(cfg)])
    assert result.exit_code == ExitCode.USAGE
    assert str(cfg) in result.output and "already bound" in result.output
