"""The RAS framework's platform side (after TF-A ``lib/extensions/ras/ras_common.c``):
probe the error records, triage them into CPER, write the GHESv2 block, notify the OS;
the RAS interrupt handler and corrected-error thresholds. Mixed into El3Firmware.

Error records are read and cleared only through the error node registers: memory-mapped
nodes through their registers, the PE's own node through ERRSELR_EL1/ERX*_EL1.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from ..formats import arm, cper
from ..formats.arm.names import AET_SHORT
from ..formats.arm.sysreg_fault import ERRIDR_EL1, ERRSELR_EL1
from ..formats.cper import names as cn
from . import triage as tr
from .ghes import SYNCHRONOUS_NOTIFY, GhesTarget


@lru_cache(maxsize=256)
def _cec_max(fr: int) -> int | None:
    """The largest ERR<n>MISC0.CEC value of the form ERR<n>FR selects (None: no counter)."""
    f = arm.misc0_layout(fr).by_name.get("CEC")
    return None if f is None else f.max


_UNKNOWN = object()  # a _target not looked up yet (None: no source)
_new_record = tuple.__new__  # ErrRecordState(...) without its Python-level __new__: probe is hot


def _errselr(n: int) -> int:
    """ERRSELR_EL1 selecting record ``n``."""
    return ERRSELR_EL1.encode(SEL=n)


class RasMixin:
    """Record probing, handling and RAS interrupts of :class:`~.el3.El3Firmware`."""

    # --- error records --------------------------------------------------------------------
    def probe(self, pe, nodes: Sequence | None = None) -> list[tr.ErrRecordState]:
        """ser_probe_memmap over the shared nodes and ser_probe_sysreg over the PE's own."""
        out = []
        pe_nodes = self.pe_nodes  # memmap_nodes holds none of them: only ``nodes`` can
        for node in self.memmap_nodes if nodes is None else nodes:
            if nodes is not None and id(node) in pe_nodes:
                out += self.ser_probe_sysreg(pe_nodes[id(node)])
                continue
            valid = node.valid_records()
            if not valid:
                continue
            name, kinds = node.name, node.record_kinds
            node_index = self.mc_index.get(name, 0)
            for n in valid:  # FR, CTLR, STATUS, ADDR, MISC0 of record n
                self.spend("ras_record_read")
                out.append(_new_record(tr.ErrRecordState,
                                       (name, kinds[n], n, node_index, *node.read_record(n))))
        if nodes is None and pe.node is not None:
            out += self.ser_probe_sysreg(pe)
        return out

    def ser_probe_sysreg(self, pe) -> list[tr.ErrRecordState]:
        """The PE's own records: which are valid (the node's group status, as ERXGSR_EL1
        gives it), then each through ERRSELR_EL1 + ERX*_EL1 (TF-A ser_probe_sysreg)."""
        node = pe.node
        valid = node.valid_records()
        if not valid:
            return []
        num = ERRIDR_EL1.decode(pe.read_sysreg("ERRIDR_EL1")).fields["NUM"]
        out = []
        for n in valid:
            if n >= num:
                continue
            pe.write_sysreg("ERRSELR_EL1", _errselr(n))
            self.spend("ras_record_read")
            status = pe.read_sysreg("ERXSTATUS_EL1")
            if not tr.status_fields(status)["V"]:
                continue
            out.append(tr.ErrRecordState(
                node.name, node.record_kind(n), n, pe.index, pe.read_sysreg("ERXFR_EL1"),
                pe.read_sysreg("ERXCTLR_EL1"), status, pe.read_sysreg("ERXADDR_EL1"),
                pe.read_sysreg("ERXMISC0_EL1")))
        return out

    def clear_record(self, pe, rec: tr.ErrRecordState) -> None:
        """Write the STATUS value read back (W1C): clears it unless a newer error arrived.
        On the PE running the firmware its own records go through ERRSELR_EL1/ERXSTATUS_EL1;
        otherwise (a timer, another PE's node) through the node's registers."""
        if pe is not None and pe.pstate.el == 3 and pe.node is not None and rec.node == pe.node.name:
            pe.write_sysreg("ERRSELR_EL1", _errselr(rec.index))
            pe.write_sysreg("ERXSTATUS_EL1", rec.status)
            return
        self.nodes[rec.node].write_status(rec.index, rec.status)

    def handle_records(self, pe, reason: int, records: Sequence[tr.ErrRecordState]):
        """Triage → CPER (memory sections for DRAM, one ARM processor section for the PE's
        cache/TLB/bus records) → clear the records → GHESv2 → notify."""
        triages = []
        for r in records:
            t = tr.classify_status(r.status)
            if t.cls == "uncontainable":
                esr = pe.regs["ESR_EL3"] if reason != tr.ERROR_INTERRUPT else 0
                self.plat_handle_uncontainable_ea(pe, esr, reason=reason, records=records)
                return None
            triages.append(t)
        sections: list[Any] = []
        arm_info = []
        proc_sev = []
        for rec, t in zip(records, triages, strict=True):
            if rec.kind == "memory":
                sec = tr.mem_err_section(rec, self.platform.dram_location(rec.paddr, rec.node_index))
                sections.append((sec, {"error_severity": t.severity, "flags": t.flags}))
            else:
                arm_info.append(rec)
                proc_sev.append(t)
        if arm_info:
            infos = [tr.arm_err_info(r, first=i == 0, last=i == len(arm_info) - 1) for i, r in enumerate(arm_info)]
            owner = self.pe_nodes.get(id(self.nodes[arm_info[0].node]), pe)
            sec = tr.proc_arm_section(infos, self._el1_context(owner), midr=owner.regs["MIDR_EL1"],
                                      mpidr=owner.regs["MPIDR_EL1"])
            flags = 0
            for t in proc_sev:
                flags |= t.flags
            sections.append((sec, {"error_severity": tr.worst(proc_sev), "flags": flags}))
        for rec in records:
            self.clear_record(pe, rec)
        sev = tr.worst(triages)
        est = cper.build_estatus(sections, error_severity=sev)
        self.handled += 1
        return self._record(pe, reason, est, corrected=sev == cn.CPER_SEV_CORRECTED)

    def _record(self, pe, reason: int, est: cper.Estatus, *, corrected: bool):
        """Write ``est`` into the source for this class of error and notify the OS.
        Returns (source or None, result of ghes_record_cper_errors or "no_source")."""
        p = self.policy
        prefs = (p.corrected_notify if corrected else p.sync_notify if reason == tr.ERROR_EA_SYNC
                 else p.interrupt_notify if reason == tr.ERROR_INTERRUPT else p.async_notify)
        t = self._target(prefs)
        if t is None:
            self.trace("ghes_no_source", cpu=pe.index, wanted=list(prefs))
            return None, "no_source"
        result = self.ghes.ghes_record_cper_errors(t, est)
        if result == "written":
            self.ghes_notify(pe, t, est)
        return t, result

    def _target(self, prefs: tuple[str, ...]) -> GhesTarget | None:
        t = self._targets.get(prefs, _UNKNOWN)
        if t is _UNKNOWN:
            t = self._targets[prefs] = next(
                (s for n in prefs if (s := self.ghes.target(n)) is not None), None)
        return t

    def _el1_context(self, pe) -> dict[str, int]:
        """The AArch64 EL1 context registers (CPER context type 5) as MRS at EL3 reads them."""
        regs = pe.regs
        return {name: (pe.isr_el1 if reg == "ISR_EL1" else regs.get(reg, 0))
                for name, reg in tr.EL1_CONTEXT.items()}

    # --- notification ------------------------------------------------------------------------
    def ghes_notify(self, pe, t: GhesTarget, est: cper.Estatus) -> None:
        """Tell the OS by the source's notification type. SEA/SEI: the delegated exception
        is the notification; GPIO/GSIV: an interrupt (SPI ``vector``); SDEI: dispatch event
        ``vector``; POLLED: nothing (the OS polls)."""
        if t.notify in ("GPIO", "GSIV", "EXTERNAL"):
            (pe or self.machine.pes[0]).raise_interrupt(t.vector)
        elif t.notify == "SOFTWARE_DELEGATED":
            self.sdei_dispatch_event(pe or self.machine.pes[0], t.vector)

    def _notify_queued(self, t: GhesTarget, est: cper.Estatus) -> None:
        """A queued record was finally written: interrupt-like sources notify now; for SEA/SEI
        the OS reads it at its next synchronous notification (ghes_notify_sea walks all)."""
        if t.notify not in SYNCHRONOUS_NOTIFY:
            self.ghes_notify(self.machine.pes[0], t, est)

    # --- RAS interrupts and corrected errors ------------------------------------------------
    def ras_interrupt_handler(self, pe, exc) -> None:
        """EHF at PLAT_RAS_PRI: acknowledge, find the interrupt's node (binary search of the
        sorted ras_interrupt table; TF-A panics for one it does not know), probe it, handle."""
        intid = pe.acknowledge_interrupt(fiq=exc.kind == "fiq")
        node = self._ras_node(pe, intid)
        if node is None:
            self.trace("ras_interrupt_handler", cpu=pe.index, intid=intid, node=None)
            self.machine.halt("EL3: RAS interrupt with no handler", cpu=pe.index, intid=intid)
            return
        records = self.probe(pe, [node])
        self.trace("ras_interrupt_handler", cpu=pe.index, intid=intid, node=node.name,
                   records=[summary(r) for r in records])
        if records:
            self.handle_records(pe, tr.ERROR_INTERRUPT, records)
            for rec in records:
                self._arm_ce_threshold(self.nodes[rec.node], rec.index)
        if not self.machine.halted and pe.pstate.el == 3:
            self.el3_exit(pe)

    def _ras_node(self, pe, intid: int):
        if pe.node is not None and pe.node.intid == intid:
            return pe.node
        lo, hi = 0, len(self.ras_interrupts)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.ras_interrupts[mid][0] < intid:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self.ras_interrupts) and self.ras_interrupts[lo][0] == intid:
            return self.ras_interrupts[lo][1]
        return None

    def _arm_ce_threshold(self, node, n: int) -> None:
        """Preload ERR<n>MISC0.CEC so the counter overflows after ``ce_threshold`` errors."""
        th = self.policy.ce_threshold
        if not th:
            return
        cmax = _cec_max(node.read(n, "FR"))
        if cmax is not None and th <= cmax + 1:
            node.set_corrected_count(n, cmax + 1 - th)

    def ras_poll_corrected(self) -> None:
        """A firmware timer: harvest corrected errors from every record (no exception)."""
        for node in self.machine.error_nodes:
            recs = []
            for n in node.valid_records():
                st = node.read(n, "STATUS")
                f = tr.status_fields(st)
                if f["CE"] and not (f["UE"] or f["DE"]):
                    recs.append(tr.ErrRecordState(node.name, node.record_kind(n), n,
                                                  self.mc_index.get(node.name, 0), node.read(n, "FR"),
                                                  node.read(n, "CTLR"), st, node.read(n, "ADDR"),
                                                  node.read(n, "MISC0")))
            if recs:
                self.trace("ras_poll_corrected", node=node.name, records=[summary(r) for r in recs])
                self.handle_records(self.pe_nodes.get(id(node), self.machine.pes[0]),
                                    tr.ERROR_INTERRUPT, recs)
                for rec in recs:
                    self._arm_ce_threshold(node, rec.index)
        if not self.machine.halted:
            self.engine.schedule(self.policy.ce_poll_ns, self.ras_poll_corrected)


def summary(r: tr.ErrRecordState) -> dict[str, Any]:
    """One error record for the trace: where, the raw STATUS/ADDR and the decoded class."""
    status = r.status
    cls, serr, uet, av = _status_summary(status)
    d: dict[str, Any] = {"node": r.node, "record": r.index, "kind": r.kind, "status": status,
                         "class": cls, "serr": serr}
    if uet is not None:
        d["uet"] = uet
    if av:
        d["pa"] = r.paddr
    return d


@lru_cache(maxsize=4096)
def _status_summary(status: int) -> tuple[str, int, str | None, int]:
    """What :func:`summary` shows of ERR<n>STATUS: (class, SERR, UET short name if UE, AV),
    memoised by value."""
    f = tr.status_fields(status)
    return (tr.classify_status(status).cls, f["SERR"],
            AET_SHORT[f["UET"]] if f["UE"] else None,  # UET and AET share the codes
            f["AV"])
