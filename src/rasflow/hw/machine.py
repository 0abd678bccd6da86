"""The machine: PEs, physical memory, RAS error nodes, platform halt, and the hardware's
side of every error (what a poisoned load, a write-back, a device error records and
signals). Fault injection is in :mod:`.inject`.

Error nodes (``machine.error_nodes``, in TF-A's err_record_info order):

- ``mc<i>``: one memory controller per RAM region (kind "memory", ``mc_records``
  records; record 0 takes every error), RAS interrupt SPI ``RAS_SPI_BASE + i``;
- ``cpu<i>``: each PE's own node with records 0 cache, 1 TLB, 2 bus, reached by that PE
  through ERRSELR_EL1/ERX*_EL1, RAS interrupt PPI ``RAS_PPI``;
- ``bus0``: the interconnect (kind "bus"), where device error responses are recorded.

RAS interrupts are FIQs (Group 0, to EL3 through SCR_EL3.FIQ) when firmware handles
errors first, IRQs otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from ..engine import Component, Engine
from ..formats.arm.sysreg import HCR_EL2, SCR_EL3, SCTLR_ELx
from .arch import serror_aet, serror_syndrome
from .inject import InjectMixin
from .memory import DramAddress, DramGeometry, PhysicalMemory, Region
from .pe import PE
from .ras import SERR, ErrorNode

QEMU_VIRT_DEVICES = [(0x0800_0000, 0x2_0000, "gic"), (0x0900_0000, 0x1000, "uart0"),
                     (0x0903_0000, 0x1000, "gpio"), (0x0A00_0000, 0x4000, "virtio")]
RAS_SPI_BASE = 64
RAS_PPI = 21
PE_RECORDS = ("cache", "tlb", "bus")
VBAR = {1: 0xFFFF_8000_0801_0000, 2: 0xFFFF_8000_0802_0000, 3: 0x0E00_0000}
"""Reset VBAR_ELx values of this model (distinct, so traces show which table ran)."""
_HCR_RW = HCR_EL2.encode(RW=1)
_SERR_MEMORY = SERR["memory"]


@lru_cache(maxsize=64, typed=True)  # typed: an HCR_EL2 of True is not one of 1
def _reset_registers(firmware_first: int, iesb: int, hcr: int) -> dict[str, int]:
    """The control registers every PE starts with for these choices: SCR_EL3, HCR_EL2,
    SCTLR_ELx and VBAR_ELx (pure: built once each; read-only, copied into ``pe.regs``)."""
    scr = SCR_EL3.encode(NS=1, RW=1, HCE=1, RES1_5_4=0b11, EA=firmware_first, FIQ=firmware_first)
    sctlr = SCTLR_ELx.encode(IESB=iesb)
    return {"SCR_EL3": scr, "HCR_EL2": hcr, "SCTLR_EL1": sctlr, "SCTLR_EL2": sctlr,
            "SCTLR_EL3": sctlr, "VBAR_EL1": VBAR[1], "VBAR_EL2": VBAR[2], "VBAR_EL3": VBAR[3]}


class Machine(InjectMixin, Component):
    """An Arm64 server: ``cpus`` PEs, RAM and devices, RAS nodes (``ras``), and the
    EL3 routing firmware-first platforms use (``firmware_first``: SCR_EL3.EA=1, RAS
    interrupts as FIQ to EL3)."""

    def __init__(self, engine: Engine, *, cpus: int = 1,
                 ram: Iterable[tuple[int, int]] = ((0x4000_0000, 4 << 30),),
                 devices: Iterable[tuple[int, int, str]] = QEMU_VIRT_DEVICES,
                 ras: bool = True, firmware_first: bool = True, el2: bool = True,
                 hcr_el2: int | None = None, iesb: bool = False, mc_records: int = 1,
                 sea_ea: int = 0, writeback_delay_ns: int = 100,
                 writeback_aet: str = "UEO", dram: DramGeometry | None = None):
        super().__init__(engine, "machine")
        self.memory = PhysicalMemory(ram, devices)
        self.ras, self.firmware_first = ras, firmware_first
        self.sea_ea = sea_ea  # ESR_ELx.EA of a synchronous External abort (IMPDEF)
        self.writeback_delay_ns, self.writeback_aet = writeback_delay_ns, writeback_aet
        self.dram = dram or DramGeometry()
        self.halted, self.halt_reason = False, ""
        self.pes = [PE(self, i, el2=el2) for i in range(cpus)]
        self.error_nodes: list[ErrorNode] = []
        self._mc: list[tuple[Region, ErrorNode]] = []
        if ras:
            for i, r in enumerate(self.memory.ram):
                node = ErrorNode(f"mc{i}", mc_records, kind="memory", intid=RAS_SPI_BASE + i)
                self._mc.append((r, node))
                self.error_nodes.append(node)
            for pe in self.pes:
                pe.node = ErrorNode(pe.name, len(PE_RECORDS), kind="cache",
                                    record_kinds=PE_RECORDS, intid=RAS_PPI)
                self.error_nodes.append(pe.node)
            self.error_nodes.append(ErrorNode("bus0", 1, kind="bus",
                                              intid=RAS_SPI_BASE + len(self._mc)))
        self.ras_interrupts = {n.intid: n for n in self.error_nodes if n.kind != "cache"}
        """SPI -> node for the shared nodes (a PE's own node uses the PPI ``RAS_PPI``)."""
        self._device_errors: dict[str, list[tuple[int, int]]] = {}
        self._armed_sea: dict[int, str] = {}  # PE index -> SET of a consumed PE error
        reset = _reset_registers(int(firmware_first), int(iesb),
                                 _HCR_RW if hcr_el2 is None else hcr_el2)
        for pe in self.pes:
            pe.regs.update(reset)

    # --- lookups ------------------------------------------------------------------
    def node(self, name: str) -> ErrorNode:
        for n in self.error_nodes:
            if n.name == name:
                return n
        raise KeyError(f"no error node {name!r}")

    def memory_controller(self, pa: int) -> tuple[ErrorNode, int] | None:
        """(node, record) of the memory controller that owns ``pa``."""
        for r, node in self._mc:
            if r.base <= pa < r.base + r.size:
                return node, 0
        return None

    def dram_address(self, pa: int) -> DramAddress | None:
        """The DRAM location of ``pa`` (node = memory controller index)."""
        for i, (r, _) in enumerate(self._mc):
            if r.base <= pa < r.base + r.size:
                return self.dram.decode(pa - r.base, node=i)
        return None

    # --- platform ------------------------------------------------------------------
    def halt(self, reason: str, **fields: Any) -> None:
        """A platform panic: every PE stops (programs end with "halted")."""
        if not self.halted:
            self.halted, self.halt_reason = True, reason
            self.trace("halt", reason=reason, **fields)

    def ras_interrupt(self, node: ErrorNode, pe: PE | None = None) -> None:
        """Signal ``node``'s RAS interrupt (to its own PE for a PE node, else cpu0)."""
        target = pe or (self.pes[int(node.name[3:])] if node.kind == "cache" else self.pes[0])
        target.raise_interrupt(node.intid, fiq=self.firmware_first)

    # --- the hardware's side of an access --------------------------------------------
    def consume_poison(self, pe: PE, granule: int) -> str:
        """A load consumed a poisoned granule: the memory controller records the error
        (UE, AV, ER; PN when the poison was deferred by a scrubber) before the PE takes
        the abort. Returns the abort's SET (UER, UC, UEO)."""
        memory = self.memory
        uet = memory.poison_uet(granule)
        mc = self.memory_controller(granule) if self.ras else None
        if mc is not None:
            node, n = mc
            status = node.record_error(n, ue=True, pa=granule, serr=_SERR_MEMORY, uet=uet,
                                       er=True, pn=memory.is_deferred(granule))
            engine = self.engine
            engine.trace.emit(engine.now, node.name, "ras_record", {
                "record": n, "status": status, "addr": granule, "cpu": pe.index})
        return uet

    def poison_writeback(self, pe: PE, granule: int) -> None:
        """A store into a poisoned line: the write completes, and the line's write-back
        ``writeback_delay_ns`` later raises a (non-synchronizable) SError on ``pe``."""
        self.engine.schedule(self.writeback_delay_ns, self._writeback, pe, granule)

    def _writeback(self, pe: PE, granule: int) -> None:
        uet = self.memory.poison_uet(granule)
        aet = "UC" if uet == "UC" else self.writeback_aet
        mc = self.memory_controller(granule) if self.ras else None
        if mc is not None:
            mc[0].record_error(mc[1], ue=True, pa=granule, serr=SERR["memory"], uet=aet, er=True)
        self.trace("poison_writeback", pa=granule, cpu=pe.index, aet=aet)
        pe.raise_serror(serror_syndrome(aet), synchronizable=False)

    def device_access(self, pe: PE, pa: int, *, write: bool) -> None:
        """An access to device memory: an armed device error answers with an error
        response, recorded by ``bus0`` and raised as an SError ``delay_ns`` later."""
        if not self._device_errors:
            return
        region = self.memory.region(pa)
        armed = self._device_errors.get(region.name)
        if not armed:
            return
        syndrome, delay, synchronizable = armed.pop(0)
        if not armed:
            del self._device_errors[region.name]
        if self.ras:
            bus = self.node("bus0")
            aet = serror_aet(syndrome)
            bus.record_error(0, ue=True, pa=pa, serr=SERR["bus"],
                             uet=aet if aet in ("UC", "UEU", "UEO", "UER") else "UC", er=True)
        self.trace("device_error", device=region.name, pa=pa, write=write, cpu=pe.index,
                   syndrome=syndrome, delay_ns=delay,
                   **({} if synchronizable else {"synchronizable": False}))
        pe.raise_serror(syndrome, delay_ns=delay, synchronizable=synchronizable)

