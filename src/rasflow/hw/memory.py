"""Physical memory: sparse RAM, device regions, and poison per 64-byte granule.

RAM is a dict of 4 KiB pages allocated on first write; reads of untouched RAM return
zeros, so a 4 TiB machine costs nothing until it is used. A physical address outside
every region is unbacked: an access to it is an External abort (the PE decides which).

Poison marks a 64-byte granule (the Arm RAS data-poisoning granule, a cache line) whose
data is uncorrectable. A granule poisoned by a patrol scrubber is also *deferred*: the
memory controller found and marked it without anyone consuming it.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
GRANULE_SHIFT = 6
GRANULE = 1 << GRANULE_SHIFT  # bytes per poison granule
_U64 = struct.Struct("<Q")
_PAGE_MASK = PAGE_SIZE - 1
_LAST_U64 = PAGE_SIZE - 8  # the last offset where a u64 fits in its page
_ZERO_PAGE = bytes(PAGE_SIZE)


class Region(NamedTuple):
    kind: str  # "ram" | "device"
    name: str
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size

    def __contains__(self, pa: object) -> bool:
        return isinstance(pa, int) and self.base <= pa < self.base + self.size


class DramAddress(NamedTuple):
    """Where a physical address lives in DRAM (the fields of a CPER memory section)."""

    node: int
    card: int  # memory channel
    module: int  # DIMM
    rank: int
    bank: int
    row: int
    column: int


class DramGeometry(NamedTuple):
    """A simple, fixed address map: 8-byte bursts, columns, banks, ranks, DIMMs, channels,
    rows, filled in that order from the bottom of each RAM region. Platform firmware
    uses it the way a real DMC address decoder is used (TF-A platform code)."""

    columns: int = 1024
    banks: int = 16
    ranks: int = 2
    modules: int = 2
    channels: int = 4

    def decode(self, offset: int, node: int = 0) -> DramAddress:
        """The DRAM location of byte ``offset`` into a memory controller's range."""
        q, column = divmod(offset // 8, self.columns)
        q, bank = divmod(q, self.banks)
        q, rank = divmod(q, self.ranks)
        q, module = divmod(q, self.modules)
        row, card = divmod(q, self.channels)
        return DramAddress(node, card, module, rank, bank, row, column)


def _layout(ram: tuple, devices: tuple) -> tuple[Region, ...]:
    """The regions of a machine, sorted by base; overlaps and empty regions are errors."""
    regions = [Region("ram", f"ram{i}", b, s) for i, (b, s) in enumerate(ram)]
    regions += [Region("device", n, b, s) for b, s, n in devices]
    regions.sort(key=lambda r: r.base)
    for a, b in zip(regions, regions[1:], strict=False):
        if a.end > b.base:
            raise ValueError(f"regions {a.name} and {b.name} overlap")
    for r in regions:
        if r.size <= 0 or r.base < 0:
            raise ValueError(f"region {r.name}: bad base/size")
    return tuple(regions)


_layout_cached = lru_cache(maxsize=256)(_layout)


class PhysicalMemory:
    """Sparse byte-addressable physical memory with device regions and poison."""

    def __init__(self, ram: Iterable[tuple[int, int]],
                 devices: Iterable[tuple[int, int, str]] = ()):
        ram, devices = tuple(ram), tuple(devices)
        try:
            regions = _layout_cached(ram, devices)
        except TypeError:  # unhashable descriptions (lists): lay out without the cache
            regions = _layout(ram, devices)
        self.regions: tuple[Region, ...] = regions
        self._bases = tuple(r.base for r in regions)
        self._ram = tuple(r for r in regions if r.kind == "ram")
        self._set_last(regions[0] if regions else Region("ram", "none", 0, 0))
        self._pages: dict[int, bytearray] = {}
        self._poison: set[int] = set()  # granule numbers (pa >> GRANULE_SHIFT)
        self._deferred: set[int] = set()  # poisoned by a scrubber (a deferred error)
        self._uet: dict[int, str] = {}  # granule -> UET when not UER

    # --- regions --------------------------------------------------------------------
    def _set_last(self, r: Region) -> None:
        """Remember the last region hit, with its bounds as plain ints (the fast paths)."""
        self._last = r
        self._lo, self._hi = r.base, r.base + r.size

    def region(self, pa: int) -> Region | None:
        """The region holding ``pa``, or None (unbacked: an access is an External abort)."""
        if self._lo <= pa < self._hi:
            return self._last
        i = bisect.bisect_right(self._bases, pa) - 1
        if i >= 0:
            r = self.regions[i]
            if pa < r.base + r.size:
                self._set_last(r)
                return r
        return None

    @property
    def ram(self) -> tuple[Region, ...]:
        return self._ram

    def _check(self, pa: int, n: int) -> None:
        if self._lo <= pa and pa + n <= self._hi:
            return
        r = self.region(pa)
        if r is None or pa + n > r.base + r.size:
            raise ValueError(f"access [{pa:#x}, +{n:#x}) is not inside one backed region")

    # --- data -----------------------------------------------------------------------
    def read(self, pa: int, n: int) -> bytes:
        """``n`` bytes at ``pa`` (untouched memory reads as zeros)."""
        if not (self._lo <= pa and pa + n <= self._hi):
            self._check(pa, n)
        off = pa & _PAGE_MASK
        if 0 < n <= PAGE_SIZE - off:  # the common case: inside one page
            data = self._pages.get(pa >> PAGE_SHIFT)
            return bytes(data[off:off + n]) if data is not None else _ZERO_PAGE[:n]
        out = bytearray()
        while n > 0:
            page, off = pa >> PAGE_SHIFT, pa & (PAGE_SIZE - 1)
            take = min(n, PAGE_SIZE - off)
            data = self._pages.get(page)
            out += data[off:off + take] if data is not None else _ZERO_PAGE[:take]
            pa += take
            n -= take
        return bytes(out)

    def write(self, pa: int, data: bytes | bytearray | memoryview) -> None:
        """Write ``data`` at ``pa``, allocating pages on first write."""
        if type(data) is bytes or type(data) is bytearray:  # the common case: one page
            n = len(data)
            if not (self._lo <= pa and pa + n <= self._hi):
                self._check(pa, n)
            off = pa & _PAGE_MASK
            if 0 < n <= PAGE_SIZE - off:
                buf = self._pages.get(pa >> PAGE_SHIFT)
                if buf is None:
                    buf = self._pages[pa >> PAGE_SHIFT] = bytearray(PAGE_SIZE)
                buf[off:off + n] = data
                return
        data = memoryview(data).cast("B")
        self._check(pa, len(data))
        pos = 0
        while pos < len(data):
            page, off = pa >> PAGE_SHIFT, pa & (PAGE_SIZE - 1)
            take = min(len(data) - pos, PAGE_SIZE - off)
            buf = self._pages.get(page)
            if buf is None:
                buf = self._pages[page] = bytearray(PAGE_SIZE)
            buf[off:off + take] = data[pos:pos + take]
            pa += take
            pos += take

    def read_u64(self, pa: int) -> int:
        """A little-endian 64-bit value (an aligned access stays inside one page)."""
        off = pa & _PAGE_MASK
        if off > _LAST_U64:
            return _U64.unpack(self.read(pa, 8))[0]
        if not (self._lo <= pa and pa + 8 <= self._hi):
            self._check(pa, 8)
        buf = self._pages.get(pa >> PAGE_SHIFT)
        return 0 if buf is None else _U64.unpack_from(buf, off)[0]

    def write_u64(self, pa: int, value: int) -> None:
        off = pa & _PAGE_MASK
        if off > _LAST_U64:
            self.write(pa, _U64.pack(value))
            return
        if not (self._lo <= pa and pa + 8 <= self._hi):
            self._check(pa, 8)
        buf = self._pages.get(pa >> PAGE_SHIFT)
        if buf is None:
            buf = self._pages[pa >> PAGE_SHIFT] = bytearray(PAGE_SIZE)
        _U64.pack_into(buf, off, value)

    @property
    def pages_allocated(self) -> int:
        return len(self._pages)

    # --- poison ---------------------------------------------------------------------
    def poison(self, pa: int, size: int = 1, *, deferred: bool = False,
               uet: str = "UER") -> None:
        """Poison the granule holding ``pa``, or every granule overlapping [pa, pa+size)
        (a page: ``size=PAGE_SIZE``).
        ``uet`` is the error state its consumption reports (UER unless the platform says
        otherwise, e.g. UC); ``deferred``: the poison was written by a scrubber."""
        if not self._lo <= pa < self._hi:  # _check(pa, 1)'s fast path, inlined
            self._check(pa, 1)
        for g in _granules(pa, size):
            self._poison.add(g)
            if deferred:
                self._deferred.add(g)
            if uet != "UER":
                self._uet[g] = uet
            elif self._uet:
                self._uet.pop(g, None)

    def unpoison(self, pa: int, size: int = 1) -> None:
        """Clear poison from the granule holding ``pa`` (or [pa, pa+size))."""
        for g in _granules(pa, size):
            self._poison.discard(g)
            self._deferred.discard(g)
            self._uet.pop(g, None)

    def poison_uet(self, pa: int) -> str:
        """The error state (UET short name) the poisoned granule at ``pa`` reports."""
        return self._uet.get(pa >> GRANULE_SHIFT, "UER") if self._uet else "UER"

    def is_poisoned(self, pa: int) -> bool:
        return (pa >> GRANULE_SHIFT) in self._poison

    def is_deferred(self, pa: int) -> bool:
        """True when the granule's poison was written by a scrubber (a deferred error)."""
        return (pa >> GRANULE_SHIFT) in self._deferred

    def poisoned_granule(self, pa: int, n: int) -> int | None:
        """Address of the first poisoned granule in [pa, pa+n), or None."""
        poison = self._poison
        if not poison:
            return None
        g = pa >> GRANULE_SHIFT
        last = (pa + n - 1) >> GRANULE_SHIFT
        while g <= last:
            if g in poison:
                return g << GRANULE_SHIFT
            g += 1
        return None

    def poisoned(self) -> list[int]:
        """Every poisoned granule address, sorted."""
        return sorted(g << GRANULE_SHIFT for g in self._poison)


def _granules(pa: int, size: int) -> range:
    return range(pa >> GRANULE_SHIFT, ((pa + max(size, 1) - 1) >> GRANULE_SHIFT) + 1)
