"""SBE messages: the schema (core/codec/schema), the generator (core/codec/sbe), the generated codecs
(core/codec/generated) and the facade other packages import (core/codec/messages)."""
