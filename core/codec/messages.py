"""The bus messages of aerodesk: re-exports the codecs generated from core/codec/schema/aerodesk.xml.

    from core.codec.messages import NewOrder, Side, decode

    n = NewOrder.encode(buf, 0, correlationId=1, ..., operator=OperatorIdentity(user="ops", ...))
    msg = decode(buf, 0)          # a NewOrder view: msg.side is Side.Buy, msg.to_dict() for JSON

Enums are IntEnum subclasses (unknown wire values decode to UNKNOWN_<n> members, never raise), sets are
IntFlag subclasses, errors are SbeError (a ValueError) subclasses. Never edit the generated module:
change the schema and run `uv run aerodesk sbe gen core/codec/schema/aerodesk.xml --out core/codec/generated`.
"""

from core.codec.generated.aerodesk_sbe import *  # noqa: F403
from core.codec.generated.aerodesk_sbe import __all__ as __all__
