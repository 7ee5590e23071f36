"""`aerodesk sbe`: generate, check and decode with any SBE 1.0 message schema."""

from __future__ import annotations

import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from cli.console import emit_json, fail, info
from cli.exit_codes import ExitCode
from core.codec.sbe import SchemaError, compile_module, generate_source, module_name
from core.codec.sbe.validate import CheckResult, check_schema

app = typer.Typer(
    name="sbe",
    help="The SBE 1.0 code generator: generate Python codecs, check schemas, decode files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Framing(StrEnum):
    none = "none"
    sofh = "sofh"


def _report(result: CheckResult) -> None:
    for issue in result.issues:
        info(issue.format(result.source))


def _checked(schema: Path, xsd: Path | None) -> CheckResult:
    if not schema.is_file():
        fail(f"schema not found: {schema}", ExitCode.USAGE)
    result = check_schema(schema, xsd)
    if not result.ok:
        _report(result)
        fail(f"{len(result.errors)} error(s) in {schema}")
    return result


@app.command("gen")
def gen(
    schema: Path = typer.Argument(..., help="SBE XML message schema."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Directory for the generated module (created if needed)."
    ),
    xsd: Path | None = typer.Option(
        None, "--xsd", help="Official sbe.xsd (default: $AERODESK_SBE_XSD or shared data)."
    ),
) -> None:
    """Generate one Python module (named after the schema package) and print its path."""
    result = _checked(schema, xsd)
    for issue in result.issues:
        if issue.severity == "warning":
            info(issue.format(result.source))
    assert result.schema is not None
    try:
        source = generate_source(result.schema, schema.name, f"uv run aerodesk sbe gen {schema} --out {out}")
    except SchemaError as exc:
        for issue in exc.issues:
            info(issue.format(str(schema)))
        fail(f"cannot generate Python for {schema}")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a directory", ExitCode.USAGE)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{module_name(result.schema)}.py"
    tmp = target.with_suffix(".py.tmp")
    tmp.write_text(source)
    tmp.replace(target)
    typer.echo(str(target))


@app.command("check")
def check(
    schema: Path = typer.Argument(..., help="SBE XML message schema."),
    xsd: Path | None = typer.Option(
        None, "--xsd", help="Official sbe.xsd (default: $AERODESK_SBE_XSD or shared data)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Issues as JSON lines on stdout."),
) -> None:
    """Validate a schema (official XSD + semantic checks); exit 1 on errors. Issues go to stderr."""
    if not schema.is_file():
        fail(f"schema not found: {schema}", ExitCode.USAGE)
    if xsd is not None and not xsd.is_file():
        fail(f"--xsd not found: {xsd}", ExitCode.USAGE)
    result = check_schema(schema, xsd)
    if as_json:
        for i in result.issues:
            emit_json({"severity": i.severity, "line": i.line, "element": i.element, "message": i.message})
    else:
        _report(result)
    s = result.schema
    summary = f"{len(s.messages)} messages, {len(s.types)} types, version {s.version}" if s else "not usable"
    status = "ok" if result.ok else f"{len(result.errors)} error(s)"
    xsd_note = "" if result.xsd else " (XSD not checked)"
    info(f"{schema}: {status}; {summary}{xsd_note}")
    if not result.ok:
        raise typer.Exit(int(ExitCode.FAILURE))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@app.command("decode")
def decode(
    schema: Path = typer.Argument(..., help="SBE XML message schema."),
    file: Path = typer.Argument(..., help="File of back-to-back SBE messages ('-' for stdin)."),
    framing: Framing = typer.Option(
        Framing.none, "--framing", help="none, or sofh: each message after a SOFH."
    ),
) -> None:
    """Decode a file of back-to-back messages to JSON lines on stdout (bytes as hex)."""
    if not schema.is_file():
        fail(f"schema not found: {schema}", ExitCode.USAGE)
    if str(file) != "-" and not file.is_file():
        fail(f"file not found: {file}", ExitCode.USAGE)
    try:
        mod = compile_module(schema)
    except SchemaError as exc:
        for issue in exc.issues:
            info(issue.format(str(schema)))
        fail(f"cannot use schema {schema}")
    data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    offset = count = 0
    while offset < len(data):
        start = offset
        try:
            if framing is Framing.sofh:
                if offset + 6 > len(data):
                    raise mod.TruncatedMessageError("SOFH", offset, 6, len(data) - offset)
                frame_len = int.from_bytes(data[offset : offset + 4], "big")
                if frame_len < 6:
                    raise mod.SbeError(f"SOFH length {frame_len} at offset {offset} is below its own 6 bytes")
                if offset + frame_len > len(data):
                    raise mod.TruncatedMessageError("SOFH frame", offset, frame_len, len(data) - offset)
                msg = mod.decode(memoryview(data)[: offset + frame_len], offset + 6)
                if 6 + msg.encoded_length != frame_len:
                    raise mod.SbeError(
                        f"SOFH length {frame_len} at offset {offset} does not match the message "
                        f"({msg.encoded_length} + 6)"
                    )
                offset += frame_len
            else:
                msg = mod.decode(data, offset)
                offset += msg.encoded_length
        except mod.SbeError as exc:
            info(f"error: message {count + 1} at offset {start}: {exc}")
            info(f"decoded {count} message(s) before the error")
            raise typer.Exit(int(ExitCode.FAILURE)) from None
        hdr = msg.header
        emit_json(
            {
                "offset": start,
                "message": msg.NAME,
                "templateId": msg.TEMPLATE_ID,
                "version": msg.acting_version,
                "blockLength": hdr[mod._SCHEMA.header_fields[0]],
                "length": msg.encoded_length,
                "fields": _jsonable(msg.to_dict()),
            }
        )
        count += 1
    sys.stdout.flush()
    info(f"decoded {count} message(s), {len(data)} bytes")
