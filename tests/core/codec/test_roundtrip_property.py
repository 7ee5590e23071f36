"""Property-based round trips of every message of our schema and of Binance's real schemas.

For random field values: the fast encoder and the generic encoder write the same bytes, decoding
gives back exactly what the values mean (computed independently from the schema metadata), and
re-encoding the decoded view reproduces the bytes.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.codec.strategies import expected_block, message_values, same


def _roundtrip(mod: ModuleType, cls: type, values: dict[str, Any]) -> None:
    raw = mod._encode_message_bytes(cls, mod._call_values(cls, (), values))  # the generic encoder
    assert cls.encode_bytes(**values) == raw
    buf = bytearray(len(raw) + 16)
    n = cls.encode(buf, 3, **{cls._PARAMS[cls._META.names.index(k)]: v for k, v in values.items()})
    assert n == len(raw)
    assert bytes(buf[3 : 3 + n]) == raw, "fast and generic encoders disagree"
    view = mod.decode(buf, 3)
    assert type(view) is cls
    assert view.encoded_length == n
    expected = expected_block(mod, cls._META, values)
    got = view.to_dict()
    assert same(got, expected), f"{cls.NAME}: decoded {got!r}\nexpected {expected!r}"
    assert cls.encode_bytes(**got) == raw, "re-encoding to_dict() changed the bytes"
    assert cls.encode_bytes(*[getattr(view, name) for name in cls._META.names]) == raw


def _every_message(mod: ModuleType, data: st.DataObject) -> None:
    """Each example draws values for every message of the schema, so none is left out."""
    for cls in sorted(mod.MESSAGES.values(), key=lambda c: c.TEMPLATE_ID):
        _roundtrip(mod, cls, data.draw(message_values(mod, cls), label=cls.NAME))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_every_aerodesk_message_round_trips(aerodesk_mod: ModuleType, data: st.DataObject) -> None:
    _every_message(aerodesk_mod, data)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_every_binance_spot_message_round_trips(binance_spot_mod: ModuleType, data: st.DataObject) -> None:
    _every_message(binance_spot_mod, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_binance_stream_message_round_trips(
    binance_stream_mod: ModuleType, data: st.DataObject
) -> None:
    _every_message(binance_stream_mod, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_standard_example_message_round_trips(examples_mod: ModuleType, data: st.DataObject) -> None:
    _every_message(examples_mod, data)
