"""Where the project's own schema and its committed generated codecs live, and how to regenerate them."""

from __future__ import annotations

from pathlib import Path

CODEC_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = CODEC_DIR / "schema" / "aerodesk.xml"
GENERATED_DIR = CODEC_DIR / "generated"
REGENERATE_COMMAND = "uv run aerodesk sbe gen core/codec/schema/aerodesk.xml --out core/codec/generated"


def generated_source() -> str:
    """The text the committed module must have for the current schema (generated in memory)."""
    from core.codec.sbe import generate_source, load_schema

    return generate_source(load_schema(SCHEMA_PATH), SCHEMA_PATH.name, REGENERATE_COMMAND)


def regenerate() -> Path:
    """Rewrites core/codec/generated/<module>.py from the schema; returns its path."""
    from core.codec.sbe import generate_module

    return generate_module(SCHEMA_PATH, GENERATED_DIR, REGENERATE_COMMAND)
