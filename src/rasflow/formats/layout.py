"""Declare a wire layout once; derive decode, encode, dict forms, size and a strategy.

A layout is a class whose annotations list the fields in wire order, each typed
with one of the markers below (``u8`` ... ``u64``, ``Guid``, ``Bytes[n]``, ``Tail``).
``@layout`` turns it into an immutable NamedTuple subclass backed by one
precompiled little-endian ``struct.Struct``::

    @layout
    class CperSecMemErr:
        validation_bits: u64
        error_status: u64
        ...

    sec = CperSecMemErr.decode(mv, off)      # frozen; edit with _replace()
    assert sec.encode() == bytes(mv[off:off + CperSecMemErr.SIZE])

Encode never fixes anything: whatever was decoded is written back unchanged.
"""

from __future__ import annotations

import functools
import operator
import struct
import uuid
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, get_args, get_origin, get_type_hints

from .errors import FormatError, as_int


class Guid(bytes):
    """A 16-byte EFI GUID kept in its wire (mixed-endian) form; prints canonically."""

    __slots__ = ()

    def __new__(cls, value: bytes | str | uuid.UUID = b"\0" * 16) -> Guid:
        if isinstance(value, str):
            value = uuid.UUID(value).bytes_le
        elif isinstance(value, uuid.UUID):
            value = value.bytes_le
        if len(value) != 16:
            raise ValueError(f"a GUID is 16 bytes, got {len(value)}")
        return super().__new__(cls, value)

    @property
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes_le=bytes(self))

    def __str__(self) -> str:
        return _guid_text(self)

    def __repr__(self) -> str:
        return f"Guid('{self}')"

    @classmethod
    def parse(cls, text: str, *, path: str = "") -> Guid:
        """Parse the canonical text form, as a FormatError naming ``path`` when it is not one."""
        try:
            return cls(uuid.UUID(str(text)).bytes_le)
        except (ValueError, AttributeError, TypeError):
            raise FormatError(f"not a GUID: {text!r}", path=path) from None


@functools.lru_cache(maxsize=1024)
def _guid_text(wire: bytes) -> str:
    """The canonical text of a GUID's wire bytes (a handful of GUIDs recur: section types)."""
    return str(uuid.UUID(bytes_le=bytes(wire)))


NULL_GUID = Guid()
_bytes_new = bytes.__new__
_GUIDS: dict[bytes, Guid] = {}  # wire bytes -> one shared Guid (a handful recur: section types, FRU ids)
_GUIDS_MAX = 4096


def guid_from_wire(raw: bytes) -> Guid:
    """The Guid for 16 decoded wire bytes, shared for GUIDs seen before (a Guid is immutable)."""
    guid = _GUIDS.get(raw)
    if guid is None:
        guid = _bytes_new(Guid, raw)  # 16 bytes by construction
        if len(_GUIDS) < _GUIDS_MAX:
            _GUIDS[raw] = guid
    return guid


_tuple_new = tuple.__new__
_hex = operator.methodcaller("hex")


class _Marker:
    """What a field annotation means on the wire."""

    def __init__(self, code: str, kind: str, bits: int = 0, width: int = 0):
        self.code, self.kind, self.bits, self.width = code, kind, bits, width


u8 = Annotated[int, _Marker("B", "int", 8)]
u16 = Annotated[int, _Marker("H", "int", 16)]
u32 = Annotated[int, _Marker("I", "int", 32)]
u64 = Annotated[int, _Marker("Q", "int", 64)]
GuidField = Annotated[Guid, _Marker("16s", "guid", width=16)]
Tail = Annotated[bytes, _Marker("", "tail")]
"""The rest of the enclosing section after the fixed part; must be the last field."""


class _BytesFactory:
    def __getitem__(self, n: int):
        return Annotated[bytes, _Marker(f"{n}s", "bytes", width=n)]


Bytes = _BytesFactory()
"""``Bytes[20]``: a fixed run of raw bytes (char arrays, reserved areas)."""


class Names:
    """Field metadata: a name table for an enumerated field (``FIELD_name`` in to_dict)."""

    def __init__(self, table: Mapping[int, str]):
        self.table = table

    def __call__(self, value: int) -> str:
        table = self.table
        if value in table:
            return table[value]
        return f"unknown ({value:#x})"


class Flags:
    """Field metadata: bit -> name for a flags field (``FIELD_flags`` in to_dict)."""

    def __init__(self, table: Mapping[int, str]):
        self.table = table
        self._ascending = list(table) == sorted(table)

    def __call__(self, value: int) -> list[str]:
        table = self.table
        if self._ascending and isinstance(value, int) and value >= 0 and value.bit_count() * 4 <= len(table):
            # Few bits set: visit only those, lowest first (the table's order).
            out = []
            while value:
                low = value & -value
                name = table.get(low.bit_length() - 1)
                if name is not None:
                    out.append(name)
                value ^= low
            return out
        return [name for bit, name in table.items() if value >> bit & 1]


class _Field:
    __slots__ = ("name", "marker", "names", "flags", "offset")

    def __init__(self, name: str, marker: _Marker, meta: tuple, offset: int):
        self.name, self.marker, self.offset = name, marker, offset
        self.names = next((m for m in meta if isinstance(m, Names)), None)
        self.flags = next((m for m in meta if isinstance(m, Flags)), None)

    @property
    def size(self) -> int:
        return struct.calcsize("<" + self.marker.code) if self.marker.code else 0


class LayoutBase(tuple):
    """Methods every layout class gets; the decorator fills the ClassVars."""

    __slots__ = ()
    SIZE: ClassVar[int]
    STRUCT: ClassVar[struct.Struct]
    _fields_info: ClassVar[tuple[_Field, ...]]
    _has_tail: ClassVar[bool]
    _guid_idx: ClassVar[tuple[int, ...]]
    _fields: ClassVar[tuple[str, ...]]
    _plain: ClassVar[bool]  # no GUID and no Tail: the unpacked tuple is the value
    _index: ClassVar[dict[str, int]]  # field name -> position
    # to_dict's plan, one entry per field: (name, converter or None, ((key, derive), ...))
    _dict_plan: ClassVar[tuple[tuple[str, Callable | None, tuple], ...]]
    _dict_derived: ClassVar[bool]  # some field has Names/Flags (derived keys follow it)
    _dict_convert: ClassVar[tuple[tuple[int, Callable], ...]]  # (position, converter)

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None):
        """Decode the fixed part at ``off``; with a Tail, ``length`` bounds the whole."""
        try:
            values = cls.STRUCT.unpack_from(buf, off)
        except struct.error:
            raise cls._truncated(len(buf), off) from None
        if cls._plain:
            return _tuple_new(cls, values)
        if cls._guid_idx:
            values = _with_guids(cls, values)
        if cls._has_tail:
            buf_len = len(buf)
            end = buf_len if length is None else off + length
            if end > buf_len:
                raise FormatError(
                    f"truncated: length says {length} bytes, have {buf_len - off}",
                    offset=off,
                    need=end - buf_len,
                )
            start = off + cls.SIZE
            values = (*values, bytes(buf[start:end]) if end != start else b"")
        return _tuple_new(cls, values)

    @classmethod
    def _truncated(cls, buf_len: int, off: int) -> FormatError:
        for f in cls._fields_info:
            if off + f.offset + f.size > buf_len:
                have = max(0, buf_len - off - f.offset)
                return FormatError(
                    f"truncated: {cls.__name__} needs {cls.SIZE} bytes, have {max(0, buf_len - off)}",
                    path=f.name,
                    offset=off + f.offset,
                    need=f.size - have,
                )
        return FormatError(f"cannot decode {cls.__name__}", offset=off)

    def encode(self) -> bytes:
        try:
            if self._has_tail:
                return self.STRUCT.pack(*self[:-1]) + self[-1]
            return self.STRUCT.pack(*self)
        except struct.error:
            raise self._unfit(tuple(self)) from None

    @classmethod
    def pack(cls, *values: Any) -> bytes:
        """``STRUCT.pack`` for hand-written encoders: a value its field cannot hold is a
        FormatError naming the field, never a struct.error."""
        try:
            return cls.STRUCT.pack(*values)
        except struct.error:
            raise cls._unfit(values) from None

    @classmethod
    def _unfit(cls, values: tuple) -> FormatError:
        for f, v in zip((f for f in cls._fields_info if f.marker.code), values, strict=False):
            try:
                struct.pack("<" + f.marker.code, v)
            except struct.error:
                return FormatError(f"{v!r} does not fit in this {f.size}-byte field", path=f.name)
        return FormatError(f"cannot encode {cls.__name__}")

    @property
    def nbytes(self) -> int:
        """Bytes this value occupies on the wire (fixed part plus any tail)."""
        return self.SIZE + (len(self[-1]) if self._has_tail else 0)

    def to_dict(self) -> dict[str, Any]:
        """Our JSON form: raw integers, GUIDs as text, bytes as hex, plus derived names."""
        if not self._dict_derived:
            values = self
            if self._dict_convert:
                values = list(self)
                for i, convert in self._dict_convert:
                    values[i] = convert(values[i])
            return dict(zip(self._fields, values))  # noqa: B905 - same length by construction; strict= costs a third
        out: dict[str, Any] = {}
        for (name, convert, derived), v in zip(self._dict_plan, self):  # noqa: B905
            out[name] = v if convert is None else convert(v)
            if derived:
                for key, derive in derived:
                    out[key] = derive(v)
        return out

    def _replace(self, /, **kwds):
        """Return a new object replacing specified fields with new values."""
        values = list(self)
        index = self._index
        for name, value in kwds.items():
            i = index.get(name)
            if i is None:
                unexpected = [k for k in kwds if k not in index]
                raise ValueError(f"Got unexpected field names: {unexpected!r}")
            values[i] = value
        return _tuple_new(type(self), values)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = ""):
        """Inverse of to_dict; derived ``_name``/``_flags`` keys are ignored, others are errors."""
        if not isinstance(d, Mapping):
            raise FormatError(f"expected an object for {cls.__name__}", path=path)
        known = set(cls._fields)
        for key in d:
            if key not in known and not _is_derived(key, known):
                raise FormatError(f"unknown field {key!r} in {cls.__name__}", path=_join(path, key))
        values = []
        for f in cls._fields_info:
            fp = _join(path, f.name)
            if f.name not in d:
                values.append(_default(f.marker))
                continue
            values.append(value_from_json(d[f.name], f.marker, fp))
        return tuple.__new__(cls, values)

    def describe(self) -> list[str]:
        """``name = value`` lines, aligned, reserved fields left out."""
        shown = [(n, v) for n, v in zip(self._fields, self, strict=True) if not n.startswith("reserved")]
        width = max((len(n) for n, _ in shown), default=0)
        return [f"{n:<{width}} = {_fmt(v)}" for n, v in shown]

    def __repr__(self) -> str:
        parts = [
            f"{n}={_fmt(v)}"
            for f, n, v in zip(self._fields_info, self._fields, self, strict=True)
            if not n.startswith("reserved") and v != _default(f.marker)
        ]
        return f"{type(self).__name__}({', '.join(parts)})"

    @classmethod
    def strategy(cls, **overrides):
        """A Hypothesis strategy for random valid values (overrides: field -> strategy)."""
        from hypothesis import strategies as st

        kw = {}
        for f in cls._fields_info:
            if f.name in overrides:
                kw[f.name] = overrides[f.name]
            else:
                kw[f.name] = marker_strategy(f.marker)
        return st.builds(cls, **kw)


def _with_guids(cls: type, values: tuple) -> list:
    """Values unpacked by layout ``cls``'s STRUCT with each GUID field made a Guid."""
    values = list(values)
    for i in cls._guid_idx:
        values[i] = guid_from_wire(values[i])
    return values


def marker_strategy(marker: _Marker):
    from hypothesis import strategies as st

    if marker.kind == "int":
        return st.integers(0, (1 << marker.bits) - 1)
    if marker.kind == "guid":
        return st.binary(min_size=16, max_size=16).map(Guid)
    if marker.kind == "tail":
        return st.binary(max_size=64)
    return st.binary(min_size=marker.width, max_size=marker.width)


def _is_derived(key: str, known: set[str]) -> bool:
    for suffix in ("_name", "_flags"):
        if key.endswith(suffix) and key[: -len(suffix)] in known:
            return True
    return False


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _default(marker: _Marker):
    if marker.kind == "int":
        return 0
    if marker.kind == "guid":
        return NULL_GUID
    if marker.kind == "tail":
        return b""
    return b"\0" * marker.width


def value_from_json(v: Any, marker: _Marker, path: str):
    """Convert one JSON value to the field's wire type, with a FormatError naming ``path``."""
    kind = marker.kind
    if kind == "int":
        return as_int(v, path, bits=marker.bits, text=True)
    if kind == "guid":
        return Guid.parse(v, path=path)
    if not isinstance(v, str):
        raise FormatError(f"expected a hex string, got {type(v).__name__}", path=path)
    try:
        raw = bytes.fromhex(v)
    except ValueError:
        raise FormatError(f"not a hex string: {v[:40]!r}", path=path) from None
    if kind == "bytes" and len(raw) != marker.width:
        raise FormatError(f"expected {marker.width} bytes, got {len(raw)}", path=path)
    return raw


def _fmt(v: Any) -> str:
    if isinstance(v, Guid):
        return str(v)
    if isinstance(v, int):
        return f"{v:#x}" if v > 9 else str(v)
    if isinstance(v, bytes):
        return v.hex() if len(v) <= 32 else f"{v[:32].hex()}... ({len(v)} bytes)"
    return repr(v)


def layout(cls: type) -> type:
    """Compile a declared layout class into a NamedTuple subclass with codec methods."""
    hints = get_type_hints(cls, include_extras=True)
    # A layout may extend another (struct acpi_hest_generic_v2 begins with struct
    # acpi_hest_generic): the base's fields come first, in its order.
    inherited = [n for b in cls.__bases__ for n in getattr(b, "_fields", ()) if hasattr(b, "_fields_info")]
    own = inherited + [n for n in cls.__dict__.get("__annotations__", {}) if not _is_classvar(hints[n])]
    fields: list[_Field] = []
    fmt = "<"
    offset = 0
    for i, name in enumerate(own):
        hint = hints[name]
        if get_origin(hint) is not Annotated:
            raise TypeError(f"{cls.__name__}.{name}: not a layout field type")
        args = get_args(hint)
        marker = next((a for a in args[1:] if isinstance(a, _Marker)), None)
        if marker is None:
            raise TypeError(f"{cls.__name__}.{name}: not a layout field type")
        meta = tuple(a for a in args[1:] if not isinstance(a, _Marker))
        if marker.kind == "tail" and i != len(own) - 1:
            raise TypeError(f"{cls.__name__}.{name}: Tail must be the last field")
        f = _Field(name, marker, meta, offset)
        fields.append(f)
        fmt += marker.code
        offset += f.size
    st = struct.Struct(fmt)
    names = tuple(f.name for f in fields)
    plan = tuple(_dict_step(f) for f in fields)
    base = namedtuple(cls.__name__, names, defaults=[_default(f.marker) for f in fields])  # type: ignore[misc]
    own_members = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
    # The namedtuple's members (field getters, _fields, __new__, _make, _replace) go into
    # the class itself, so an extended layout's base cannot shadow them; then ours.
    ns: dict[str, Any] = {k: v for k, v in base.__dict__.items() if k not in ("__doc__", "__slots__", "__module__")}
    ns["__repr__"] = LayoutBase.__repr__
    ns["_replace"] = LayoutBase._replace
    ns.update(own_members)
    ns.update(
        __slots__=(),
        SIZE=st.size,
        STRUCT=st,
        _fields_info=tuple(fields),
        _has_tail=bool(fields) and fields[-1].marker.kind == "tail",
        _guid_idx=tuple(i for i, f in enumerate(fields) if f.marker.kind == "guid"),
        _plain=all(f.marker.kind in ("int", "bytes") for f in fields),
        _index={name: i for i, name in enumerate(names)},
        _dict_plan=plan,
        _dict_derived=any(derived for _, _, derived in plan),
        _dict_convert=tuple((i, convert) for i, (_, convert, _) in enumerate(plan) if convert is not None),
        __doc__=cls.__doc__,
        __module__=cls.__module__,
        __qualname__=cls.__qualname__,
    )
    bases = tuple(b for b in cls.__bases__ if b is not object)
    return type(cls.__name__, (*bases, base, LayoutBase), ns)


def _dict_step(f: _Field) -> tuple[str, Callable | None, tuple]:
    """How to_dict writes one field: its name, how the value is converted, derived keys."""
    kind = f.marker.kind
    if kind == "guid":
        return f.name, str, ()
    if kind != "int":
        return f.name, _hex, ()
    derived = []
    if f.names is not None:
        derived.append((f.name + "_name", f.names))
    if f.flags is not None:
        derived.append((f.name + "_flags", f.flags))
    return f.name, None, tuple(derived)


def _is_classvar(hint: Any) -> bool:
    return hint is ClassVar or get_origin(hint) is ClassVar


def section_end(buf_len: int, off: int, length: int | None) -> int:
    """The end of a ``length``-byte section at ``off`` (the buffer's end when None); a
    truncation FormatError when the buffer is shorter."""
    end = buf_len if length is None else off + length
    if end > buf_len:
        raise FormatError(f"truncated: length says {length} bytes, have {buf_len - off}", offset=off, need=end - buf_len)
    return end


def decode_entries(cls: type, buf, off: int, count: int) -> tuple:
    """``count`` consecutive fixed-size entries of layout ``cls`` (no Tail, no GUIDs) at
    ``off``, unpacked in one pass; the caller has checked they fit."""
    mv = memoryview(buf)[off : off + count * cls.SIZE]
    new = tuple.__new__
    return tuple(new(cls, v) for v in cls.STRUCT.iter_unpack(mv))


def bits(value: int, msb: int, lsb: int) -> int:
    """The field ``value[msb:lsb]``, as the specs write it."""
    return (value >> lsb) & ((1 << (msb - lsb + 1)) - 1)


DictCodec = Callable[[Mapping[str, Any]], Any]
