"""Generated SBE codecs (do not edit; see core/codec/messages.py and `aerodesk sbe gen`)."""
