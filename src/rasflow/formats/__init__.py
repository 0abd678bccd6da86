"""Byte-exact codecs: pure, stateless, the single source of truth for layouts and encodings."""

from .errors import FormatError

__all__ = ["FormatError"]
