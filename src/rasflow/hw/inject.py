"""Fault injection: ``machine.inject(fault, **params)``, one trace event per injection.

| fault            | what the hardware does                                                  |
|------------------|-------------------------------------------------------------------------|
| ``memory-ue``    | poison the granule(s) at ``pa`` (``size``); consumed later: a load takes |
|                  | a synchronous External abort (SET from ``uet``: UER, or UC when the     |
|                  | platform says uncontainable), a store an SError at write-back            |
| ``memory-ce``    | ``count`` corrected errors at ``pa``: the memory controller records and  |
|                  | counts them; its fault handling interrupt fires only on counter overflow |
|                  | (CTLR.CFI); no exception                                                 |
| ``patrol-scrub`` | a scrubber finds a UE at ``pa``: poison (deferred), DE recorded, the     |
|                  | node's error recovery interrupt (CTLR.DUI); no abort                     |
| ``cache``/``tlb``/``bus`` | an error in ``cpu``'s node record of that kind: ``ce`` counts;   |
|                  | a UE signals per ``signal``: "serror" (default, ``delay_ns``), "sync"    |
|                  | (the PE's next load takes an SEA) or "none"                              |
| ``device-serror``| arm the device region at ``pa``: its next access answers with an error  |
|                  | and an SError (``aet``) arrives ``delay_ns`` later; ``synchronizable``    |
|                  | False: no ESB or IESB makes it pending early (a device's own SError)     |
| ``uncontainable``| an uncontainable error on ``cpu``: record UC, SError with AET=UC now     |
"""

from __future__ import annotations

from typing import Any

from ..formats.arm.ras import ERR_CTLR
from .arch import serror_syndrome
from .memory import GRANULE
from .ras import SERR

FAULTS = ("memory-ue", "memory-ce", "patrol-scrub", "cache", "tlb", "bus", "device-serror",
          "uncontainable")
_PE_RECORD = {"cache": 0, "tlb": 1, "bus": 2}
_DISPATCH = {"memory-ue": "_inject_memory_ue", "memory-ce": "_inject_memory_ce",
             "patrol-scrub": "_inject_patrol_scrub", "device-serror": "_inject_device",
             "uncontainable": "_inject_uncontainable", "cache": "_inject_pe_error",
             "tlb": "_inject_pe_error", "bus": "_inject_pe_error"}
_CTLR_CFI = ERR_CTLR.encode(CFI=1)
_CTLR_DUI = ERR_CTLR.encode(DUI=1)


class InjectMixin:
    """Machine.inject and its helpers."""

    def inject(self, fault: str, **params: Any) -> None:
        """Inject ``fault`` (one of :data:`FAULTS`) now; see the module docstring."""
        method = _DISPATCH.get(fault)
        if method is None:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        self.engine.trace.emit(self.engine.now, self.name, "inject", {"fault": fault, **params})
        if fault in _PE_RECORD:
            params["kind"] = fault
        getattr(self, method)(**params)

    def _inject_memory_ue(self, *, pa: int, size: int = 1, uet: str = "UER") -> None:
        self.memory.poison(pa, size, uet=uet)

    def _mc_of(self, pa: int):
        mc = self.memory_controller(pa) if self.ras else None
        if mc is None and self.ras:
            raise ValueError(f"{pa:#x} is not RAM")
        return mc

    def _inject_memory_ce(self, *, pa: int, count: int = 1) -> None:
        mc = self._mc_of(pa)
        if mc is None:
            return
        node, n = mc
        overflowed = False
        for _ in range(count):
            before = node.corrected_count(n)[1]
            node.record_error(n, ue=False, ce=True, pa=pa, serr=SERR["memory"])
            overflowed |= node.corrected_count(n)[1] and not before
        if overflowed and node.ctlr[n] & _CTLR_CFI:
            self.ras_interrupt(node)

    def _inject_patrol_scrub(self, *, pa: int) -> None:
        self.memory.poison(pa, deferred=True, uet=self.memory.poison_uet(pa)
                           if self.memory.is_poisoned(pa) else "UER")
        mc = self._mc_of(pa)
        if mc is None:
            return
        node, n = mc
        node.record_error(n, ue=False, de=True, pa=pa & ~(GRANULE - 1), serr=SERR["memory"])
        if node.ctlr[n] & _CTLR_DUI:
            self.ras_interrupt(node)

    def _inject_pe_error(self, *, kind: str, cpu: int = 0, ue: bool = True, ce: bool = False,
                         uet: str = "UER", pa: int | None = None, signal: str = "serror",
                         delay_ns: int = 0) -> None:
        pe = self.pes[cpu]
        n = _PE_RECORD[kind]
        if pe.node is not None:
            pe.node.record_error(n, ue=ue, ce=ce and not ue, pa=pa, serr=SERR[kind], uet=uet,
                                 er=ue and signal != "none")
        if not ue:
            return
        if signal == "serror":
            pe.raise_serror(serror_syndrome(uet), delay_ns=delay_ns)
        elif signal == "sync":
            self._armed_sea[cpu] = uet
        elif signal != "none":
            raise ValueError(f"signal {signal!r}: serror, sync or none")

    def _inject_device(self, *, pa: int, delay_ns: int = 5, aet: str = "UER",
                       synchronizable: bool = True) -> None:
        region = self.memory.region(pa)
        if region is None or region.kind != "device":
            raise ValueError(f"{pa:#x} is not device memory")
        self._device_errors.setdefault(region.name, []).append(
            (serror_syndrome(aet), delay_ns, synchronizable))

    def _inject_uncontainable(self, *, cpu: int = 0) -> None:
        pe = self.pes[cpu]
        if pe.node is not None:
            pe.node.record_error(0, ue=True, serr=SERR["cache"], uet="UC", er=True)
        pe.raise_serror(serror_syndrome("UC"))

