"""Memslots and stage 2: IPA -> HVA (the VMM's memslots) -> PA (the VMM's page tables,
faulted in by the host kernel), and the guest's view of its physical address space."""

from __future__ import annotations

import struct
from typing import NamedTuple

PAGE = 4096
_U64 = struct.Struct("<Q")


class Memslot(NamedTuple):
    """struct kvm_memory_slot: ``size`` bytes of guest RAM at ``gpa``, backed at ``hva``."""

    slot: int
    gpa: int
    size: int
    hva: int


class GuestRegion(NamedTuple):
    base: int
    size: int
    kind: str = "ram"
    name: str = "ram"


class Stage2:
    """One VM's stage-2 translation, walked the way user_mem_abort() resolves a fault:
    memslot -> HVA -> the VMM's pte (faulting the page in) -> PA."""

    def __init__(self, host, vmm_task):
        self.host, self.task = host, vmm_task
        self.slots: list[Memslot] = []

    def gpa_to_hva(self, gpa: int) -> int | None:
        """gfn_to_hva_memslot()."""
        for s in self.slots:
            if s.gpa <= gpa < s.gpa + s.size:
                return s.hva + gpa - s.gpa
        return None

    def hva_to_gpa(self, hva: int) -> int | None:
        """What QEMU's kvm_physical_memory_addr_from_host() computes from the memslots."""
        for s in self.slots:
            if s.hva <= hva < s.hva + s.size:
                return s.gpa + hva - s.hva
        return None

    def __call__(self, gpa: int) -> int | None:
        for s in self.slots:  # gpa_to_hva(), inline: every guest access comes through here
            if s.gpa <= gpa < s.gpa + s.size:
                return self.host.user_pa(self.task, s.hva + gpa - s.gpa)
        r = self.host.memory.region(gpa)  # outside RAM: a device assigned to the guest (identity mapped)
        return gpa if r is not None and r.kind == "device" else None


class GuestMemory:
    """The guest-physical address space, as the guest kernel reads and writes it."""

    def __init__(self, stage2: Stage2):
        self.stage2 = stage2

    @property
    def ram(self) -> tuple[GuestRegion, ...]:
        return tuple(GuestRegion(s.gpa, s.size) for s in self.stage2.slots)

    def region(self, gpa: int) -> GuestRegion | None:
        return next((r for r in self.ram if r.base <= gpa < r.base + r.size), None)

    def _pieces(self, gpa: int, n: int):
        while n > 0:
            pa = self.stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            k = min(n, PAGE - gpa % PAGE)
            yield pa, k
            gpa, n = gpa + k, n - k

    # Each access below resolves one stage-2 translation first when [gpa, gpa+n) lies in
    # one guest page (the common case), else goes page by page (_pieces).
    def read(self, gpa: int, n: int) -> bytes:
        stage2 = self.stage2
        if n <= PAGE - gpa % PAGE:
            pa = stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            return stage2.host.memory.read(pa, n)
        mem = stage2.host.memory
        return b"".join(mem.read(pa, k) for pa, k in self._pieces(gpa, n))

    def write(self, gpa: int, data: bytes) -> None:
        stage2 = self.stage2
        if len(data) <= PAGE - gpa % PAGE:
            pa = stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            stage2.host.memory.write(pa, data)
            return
        mem = stage2.host.memory
        off = 0
        for pa, k in self._pieces(gpa, len(data)):
            mem.write(pa, data[off:off + k])
            off += k

    def read_u64(self, gpa: int) -> int:
        stage2 = self.stage2
        if gpa % PAGE <= PAGE - 8:
            pa = stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            return stage2.host.memory.read_u64(pa)
        return _U64.unpack(self.read(gpa, 8))[0]

    def write_u64(self, gpa: int, value: int) -> None:
        stage2 = self.stage2
        if gpa % PAGE <= PAGE - 8:
            pa = stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            stage2.host.memory.write_u64(pa, value)
            return
        self.write(gpa, _U64.pack(value))


def _not_backed(gpa: int) -> ValueError:
    return ValueError(f"guest physical {gpa:#x} is not backed")
