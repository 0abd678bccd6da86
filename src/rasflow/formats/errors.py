"""The one error every decoder raises: what is wrong, in which field, at which byte."""

from __future__ import annotations


class FormatError(ValueError):
    """Bad bytes or bad JSON: `path` names the field, `offset` the absolute byte.

    `need` is set on truncation: how many more bytes the field wanted.
    Decoders raise it at the innermost point and outer decoders prepend their
    path segment with `within()` as it bubbles up.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        offset: int | None = None,
        need: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.offset = offset
        self.need = need

    def within(self, segment: str) -> FormatError:
        """Prepend a path segment (e.g. ``sections[2]``) and return self to re-raise."""
        if not self.path:
            self.path = segment
        elif self.path.startswith("["):
            self.path = segment + self.path
        else:
            self.path = f"{segment}.{self.path}"
        return self

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.offset is not None:
            where.append(f"offset {self.offset:#x}")
        prefix = f"{' at '.join(where)}: " if where else ""
        return prefix + self.message

    def __reduce__(self):  # keep attributes across pickling (campaign workers)
        return (_rebuild, (self.message, self.path, self.offset, self.need))


def _rebuild(message: str, path: str, offset: int | None, need: int | None) -> FormatError:
    return FormatError(message, path=path, offset=offset, need=need)


def need_bytes(buf_len: int, off: int, size: int, field: str) -> None:
    """Raise a truncation error unless ``size`` bytes are available at ``off``."""
    if off < 0 or off + size > buf_len:
        have = max(0, buf_len - off)
        raise FormatError(
            f"truncated: need {size} bytes, have {have}",
            path=field,
            offset=off,
            need=size - have,
        )


def as_int(v: object, path: str, *, bits: int = 64, text: bool = False) -> int:
    """The one check for "this JSON value (or database column) must be an integer that
    fits in ``bits`` unsigned bits": anything else is a FormatError naming ``path``.
    ``text`` also takes "0x..." and decimal strings, as our JSON and hand edits write them."""
    if text and isinstance(v, str):
        try:
            v = int(v, 0)
        except ValueError:
            raise FormatError(f"not an integer: {v[:40]!r}", path=path) from None
    if isinstance(v, bool) or not isinstance(v, int):
        raise FormatError(f"expected an integer, got {type(v).__name__}", path=path)
    if not 0 <= v < 1 << bits:
        raise FormatError(f"{v} does not fit in {bits} bits", path=path)
    return v
