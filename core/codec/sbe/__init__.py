"""The project's SBE 1.0 code generator: XML message schema -> one self-contained Python module.

    schema = load_schema("core/codec/schema/aerodesk.xml")
    source = generate_source(schema)            # the module's text
    path = generate_module("schema.xml", "out/")  # writes out/<package>_sbe.py

`check_schema` validates against the official XSD and runs the semantic checks (see `validate`).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

from core.codec.sbe.codegen import generate_source, module_name
from core.codec.sbe.diagnostics import Issue, SchemaError
from core.codec.sbe.ir import Schema
from core.codec.sbe.parser import parse_schema

__all__ = [
    "Issue",
    "Schema",
    "SchemaError",
    "compile_module",
    "generate_module",
    "generate_source",
    "load_schema",
    "module_name",
]


def load_schema(path: str | Path) -> Schema:
    """Parses and resolves a schema; raises SchemaError listing every error (line, element, reason)."""
    return parse_schema(Path(path))


def generate_module(schema_path: str | Path, out_dir: str | Path, regenerate: str = "") -> Path:
    """Generates the module of a schema into `out_dir` (created if needed); returns the file written."""
    schema_path = Path(schema_path)
    schema = load_schema(schema_path)
    source = generate_source(schema, schema_path.name, regenerate)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{module_name(schema)}.py"
    tmp = target.with_suffix(".py.tmp")
    tmp.write_text(source)
    tmp.replace(target)  # atomic: an importer never sees half a module
    return target


def compile_module(schema_path: str | Path, name: str | None = None) -> types.ModuleType:
    """Generates and imports a schema's module in memory (nothing written), e.g. to decode a file."""
    schema_path = Path(schema_path)
    schema = load_schema(schema_path)
    source = generate_source(schema, schema_path.name)
    mod_name = name or f"_sbe_inmemory_{module_name(schema)}"
    module = types.ModuleType(mod_name)
    module.__file__ = f"<generated from {schema_path}>"
    sys.modules[mod_name] = module  # enums pickle by module name
    try:
        exec(compile(source, module.__file__, "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    return module
