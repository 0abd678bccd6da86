"""Physical memory: sparse pages, regions, poison per 64-byte granule."""

from __future__ import annotations

import tracemalloc

import pytest

from rasflow.hw.memory import GRANULE, PAGE_SIZE, DramGeometry, PhysicalMemory

TIB = 1 << 40


def test_4tib_machine_costs_nothing_until_used():
    """RAM is a dict of 4 KiB pages allocated on write: a 4 TiB machine allocates no page
    until written, untouched RAM reads as zeros, and a write allocates exactly one page."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    mem = PhysicalMemory([(0x4000_0000, 4 * TIB)])
    assert mem.read(0x4000_0000 + 3 * TIB, 16) == bytes(16)
    assert mem.read_u64(0x4000_0000 + 4 * TIB - 8) == 0
    mem.write_u64(0x4000_0000 + 2 * TIB, 0x1122334455667788)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert mem.pages_allocated == 1
    assert used < 64 * 1024
    assert mem.read_u64(0x4000_0000 + 2 * TIB) == 0x1122334455667788


def test_read_write_across_pages_and_u64_straddling():
    """Byte-addressable reads and writes cross page boundaries; only touched pages exist."""
    mem = PhysicalMemory([(0x1000, 4 * PAGE_SIZE)])
    data = bytes(range(256)) * 20
    mem.write(0x1000 + PAGE_SIZE - 100, data)
    assert mem.read(0x1000 + PAGE_SIZE - 100, len(data)) == data
    mem.write_u64(0x1000 + PAGE_SIZE - 4, 0xA1B2C3D4E5F60718)
    assert mem.read_u64(0x1000 + PAGE_SIZE - 4) == 0xA1B2C3D4E5F60718
    assert mem.pages_allocated == 3


def test_regions_and_unbacked_addresses():
    """region(pa) names RAM and device regions; an unbacked PA has none (an access to it
    is an External abort), and read/write refuse it."""
    mem = PhysicalMemory([(0x4000_0000, 1 << 30)], [(0x0900_0000, 0x1000, "uart0")])
    assert mem.region(0x4000_1000).kind == "ram"
    r = mem.region(0x0900_0008)
    assert (r.kind, r.name) == ("device", "uart0")
    assert mem.region(0x0900_1000) is None
    assert mem.region(0x3FFF_FFFF) is None
    with pytest.raises(ValueError):
        mem.read(0x0900_0FF8, 16)
    with pytest.raises(ValueError):
        PhysicalMemory([(0, 0x2000), (0x1000, 0x1000)])


def test_poison_is_per_64_byte_granule():
    """Poison covers one 64-byte granule: every byte of it reads as poisoned, the
    neighbouring granules do not; poisoned_granule finds the first in a range."""
    mem = PhysicalMemory([(0x4000_0000, 1 << 20)])
    pa = 0x4000_1000 + 3 * GRANULE + 17
    mem.poison(pa)
    base = pa & ~(GRANULE - 1)
    assert all(mem.is_poisoned(base + i) for i in range(GRANULE))
    assert not mem.is_poisoned(base - 1) and not mem.is_poisoned(base + GRANULE)
    assert mem.poisoned_granule(base - 8, 8) is None
    assert mem.poisoned_granule(base - 4, 8) == base
    assert mem.poisoned_granule(0x4000_1000, PAGE_SIZE) == base
    mem.unpoison(base)
    assert mem.poisoned_granule(0x4000_1000, PAGE_SIZE) is None


def test_poison_a_whole_page_and_deferred_marks():
    mem = PhysicalMemory([(0x4000_0000, 1 << 20)])
    mem.poison(0x4000_2000, PAGE_SIZE, uet="UC")
    assert len(mem.poisoned()) == PAGE_SIZE // GRANULE
    assert mem.poison_uet(0x4000_2FC0) == "UC" and not mem.is_deferred(0x4000_2000)
    mem.poison(0x4000_5000, deferred=True)
    assert mem.is_deferred(0x4000_5010) and mem.poison_uet(0x4000_5000) == "UER"
    mem.unpoison(0x4000_2000, PAGE_SIZE)
    assert mem.poison_uet(0x4000_2000) == "UER" and len(mem.poisoned()) == 1


def test_dram_geometry_decodes_offsets():
    """The platform's DRAM map: consecutive 8-byte bursts walk the columns first."""
    g = DramGeometry()
    assert g.decode(0) == (0, 0, 0, 0, 0, 0, 0)
    assert g.decode(8).column == 1
    a = g.decode(8 * 1024)
    assert (a.column, a.bank) == (0, 1)
    assert g.decode(123 << 24, node=2).node == 2
