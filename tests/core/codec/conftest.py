"""Fixtures: generate SBE modules into a temporary directory at test time and import them."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from core.codec.sbe import generate_module

_counter = itertools.count()


def import_generated(path: Path) -> ModuleType:
    """Imports a generated module file under a unique name (several versions of one schema coexist)."""
    name = f"_sbe_test_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def gen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sbe_generated")


@pytest.fixture(scope="session")
def generate(gen_dir: Path) -> Callable[[Path | str], ModuleType]:
    """generate(schema_path_or_xml_text) -> imported module, generated into a session temp dir."""

    def _generate(schema: Path | str) -> ModuleType:
        if isinstance(schema, str) and schema.lstrip().startswith("<"):
            src = gen_dir / f"schema_{next(_counter)}.xml"
            src.write_text(schema)
            schema = src
        out = gen_dir / f"out_{next(_counter)}"
        return import_generated(generate_module(Path(schema), out))

    return _generate


@pytest.fixture(scope="session")
def aerodesk_mod(generate: Callable[[Path | str], ModuleType]) -> ModuleType:
    from core.codec.project import SCHEMA_PATH

    return generate(SCHEMA_PATH)


@pytest.fixture(scope="session")
def examples_mod(shared_data: Path, generate: Callable[[Path | str], ModuleType]) -> ModuleType:
    return generate(shared_data / "sbe-spec" / "Examples.xml")


@pytest.fixture(scope="session")
def binance_spot_mod(shared_data: Path, generate: Callable[[Path | str], ModuleType]) -> ModuleType:
    return generate(shared_data / "sbe-binance-schema" / "spot_3_5.xml")


@pytest.fixture(scope="session")
def binance_stream_mod(shared_data: Path, generate: Callable[[Path | str], ModuleType]) -> ModuleType:
    return generate(shared_data / "sbe-binance-schema" / "stream_1_0.xml")
