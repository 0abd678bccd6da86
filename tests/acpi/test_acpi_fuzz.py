"""Random and mutated table bytes: the ACPI decoders raise nothing but FormatError, and what decodes re-encodes exactly."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acpi.acpi_strategies import any_table
from rasflow.formats import FormatError, acpi

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _exercise(buf: bytes) -> None:
    try:
        t = acpi.decode(buf)
    except FormatError as e:
        assert e.offset is None or 0 <= e.offset <= max(len(buf), 48)
        return
    assert acpi.encode(t) == buf
    for p in t.check():
        assert isinstance(p, str)
    assert acpi.describe(t)
    assert acpi.from_dict(t.to_dict()) == t
    try:
        acpi.decode(buf, strict=True)
    except FormatError:
        pass


signature = st.sampled_from([b"HEST", b"BERT", b"EINJ", b"FACP"])


@SETTINGS
@given(signature, st.binary(max_size=400), st.booleans())
def test_random_bytes(sig, rest, fix_length):
    buf = bytearray(sig + rest)
    if fix_length and len(buf) >= 8:
        struct.pack_into("<I", buf, 4, len(buf))
    _exercise(bytes(buf))


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10_000), st.booleans()),
    st.tuples(st.just("u32"), st.integers(0, 10_000), st.sampled_from([0, 1, 2, 3, 28, 92, 255, 0xFFFF, 0xFFFFFFFF])),
    st.tuples(st.just("u16"), st.integers(0, 10_000), st.integers(0, 12)),
)


def _mutate(buf: bytearray, m) -> bytearray:
    kind, pos, arg = m
    if not buf:
        return buf
    pos %= len(buf)
    if kind == "flip":
        buf[pos] ^= arg
    elif kind == "cut":
        del buf[pos:]
        if arg and len(buf) >= 8:  # keep the length field honest so the walk goes deeper
            struct.pack_into("<I", buf, 4, len(buf))
    elif kind == "u32" and pos + 4 <= len(buf):
        struct.pack_into("<I", buf, pos, arg)
    elif kind == "u16" and pos + 2 <= len(buf):
        struct.pack_into("<H", buf, pos, arg)  # e.g. retype a HEST source
    return buf


@SETTINGS
@given(any_table, st.lists(mutation, min_size=1, max_size=4))
def test_mutated_tables(t, mutations):
    buf = bytearray(t.encode())
    for m in mutations:
        buf = _mutate(buf, m)
    _exercise(bytes(buf))


@SETTINGS
@given(st.binary(max_size=200))
def test_trigger_table_and_blob(buf):
    for fn in (acpi.decode_trigger_table, lambda b: acpi.HardwareErrors.decode(b, 1)):
        try:
            fn(buf)
        except FormatError:
            pass
