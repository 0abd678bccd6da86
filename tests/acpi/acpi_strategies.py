"""Hypothesis strategies for valid ACPI tables built from random field values."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import strategies as st

from rasflow.formats import acpi
from rasflow.formats.acpi.hest_sources import SOURCE_TYPES, UnknownSource
from vectors import VECTORS

__all__ = ["VECTORS", "any_table", "bert_tables", "einj_tables", "hest_tables", "hexdump_bytes"]

_BANKED = {0, 1, 11}


def source_strategy(stype: int):
    cls = SOURCE_TYPES[stype]
    if stype not in _BANKED:
        return cls.strategy(type=st.just(stype))
    return st.integers(0, 3).flatmap(
        lambda nb: cls.strategy(
            type=st.just(stype),
            num_hardware_banks=st.just(nb),
            banks=st.binary(min_size=28 * nb, max_size=28 * nb),
        )
    )


unknown_source = UnknownSource.strategy(
    type=st.sampled_from([3, 4, 5, 12, 0x7FFF, 0xFFFF]), body=st.binary(max_size=40)
)


def header_strategy(signature: bytes):
    return acpi.AcpiTableHeader.strategy(signature=st.just(signature))


@st.composite
def hest_tables(draw):
    sources = draw(st.lists(st.sampled_from(sorted(SOURCE_TYPES)).flatmap(source_strategy), max_size=4))
    trailing = draw(st.binary(max_size=12))
    if draw(st.booleans()):
        sources.append(draw(unknown_source))
        trailing = b""  # an unsized source takes the rest of the table
    t = acpi.Hest(draw(header_strategy(b"HEST")), len(sources), tuple(sources), trailing, draw(st.binary(max_size=8)))
    return _lengthed(t, draw)


@st.composite
def bert_tables(draw):
    fixed = draw(acpi.bert.BertFixed.strategy())
    t = acpi.Bert(draw(header_strategy(b"BERT")), *fixed, draw(st.binary(max_size=12)), draw(st.binary(max_size=8)))
    return _lengthed(t, draw)


@st.composite
def einj_tables(draw):
    fixed = draw(acpi.einj.EinjFixed.strategy())
    entries = tuple(draw(st.lists(acpi.EinjEntry.strategy(), max_size=5)))
    t = acpi.Einj(draw(header_strategy(b"EINJ")), *fixed._replace(entries=len(entries)), entries,
                  draw(st.binary(max_size=31)), draw(st.binary(max_size=8)))
    return _lengthed(t, draw)


def _lengthed(t, draw):
    """Fix the header length (so the bytes describe the same table); checksum right or random."""
    length = acpi.HEADER_SIZE + len(t.structure_bytes()) + len(t.trailing)
    t = t._replace(header=t.header._replace(length=length))
    return t.with_checksum() if draw(st.booleans()) else t


any_table = st.one_of(hest_tables(), bert_tables(), einj_tables())


def hexdump_bytes(path: Path) -> bytes:
    """Bytes of an acpidump / iasl / acpiview hex listing (offset, then up to 16 hex bytes)."""
    out = bytearray()
    for line in path.read_text(errors="replace").splitlines():
        m = re.match(r"\s*([0-9A-Fa-f]{4,8})\s*:\s*((?:[0-9A-Fa-f]{2}[\s-]+)+)", line + " ")
        if m:
            toks = [t for t in re.split(r"[\s-]+", m.group(2)) if re.fullmatch(r"[0-9A-Fa-f]{2}", t)]
            out += bytes(int(t, 16) for t in toks[:16])
    return bytes(out)
