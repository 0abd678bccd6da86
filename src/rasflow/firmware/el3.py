"""EL3 firmware, firmware first, in the manner of TF-A's RAS framework (reference sheet §3).

Installed at EL3 on every PE. The PE calls :meth:`El3Firmware.on_exception` for each
exception taken to EL3, and it dispatches as ``bl31/aarch64/runtime_exceptions.S`` does:

- a lower-EL Instruction/Data Abort → :meth:`handler_sync_exception`: an uncontainable
  syndrome (SET=UC on a synchronous External abort) → :meth:`plat_handle_uncontainable_ea`
  (platform panic); else :meth:`ea_proceed` (``ERROR_EA_SYNC``) → :meth:`plat_ea_handler` →
  :meth:`ras_ea_handler` (probe the error records, build the CPER, write the GHESv2 block,
  notify), then :meth:`inject_sync_ea64` delegates the abort to the EL that owns it;
- a lower-EL SError → :meth:`handler_lower_el_async_ea`: AET=UC → panic; else
  ``ea_proceed(ERROR_EA_ASYNC)``, then el3_exit, as TF-A does; :meth:`inject_serror` (TF-A
  has no SError injection) is the reflection platform option of the RAS PRD's flows;
- a FIQ (Group 0 RAS interrupt, SCR_EL3.FIQ=1) → :meth:`ras_interrupt_handler` (patrol
  scrub, corrected-error counter overflow);
- an SMC → :meth:`smc_handler` (SDEI completion; anything else returns SMC_UNK).

Record probing, CPER and notification are in :mod:`.ras_common`, SDEI in :mod:`.sdei`,
the GHESv2 writer (sources found in the HEST *bytes*) in :mod:`.ghes`, the CPER builders
in :mod:`.triage`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..engine import Component
from ..formats import arm, cper
from ..formats.arm import kernel as k
from ..formats.cper import names as cn
from ..hw import arch
from . import triage as tr
from .ghes import GhesTarget, GhesWriter
from .policy import El3Policy
from .ras_common import RasMixin, summary
from .sdei import SdeiMixin

SET_UC = 2  # ESR_ELx.SET: uncontainable
AET_UC, AET_CE = 0, 6
SMC_UNK = (1 << 64) - 1
_ABORTS_LOW = (k.ESR_ELx_EC_IABT_LOW, k.ESR_ELx_EC_DABT_LOW)
_EC_MASK, _EC_SHIFT = k.ESR_ELx_EC_MASK, k.ESR_ELx_EC_SHIFT
_ESR_EL = (None, "ESR_EL1", "ESR_EL2", "ESR_EL3")  # the target EL's registers, by EL
_FAR_EL = (None, "FAR_EL1", "FAR_EL2", "FAR_EL3")
_ELR_EL = (None, "ELR_EL1", "ELR_EL2", "ELR_EL3")
_SPSR_EL = (None, "SPSR_EL1", "SPSR_EL2", "SPSR_EL3")
_VBAR_EL = (None, "VBAR_EL1", "VBAR_EL2", "VBAR_EL3")


@lru_cache(maxsize=4096)
def _esr(esr: int):
    """The decoded ESR (formats.arm), memoised by value."""
    return arm.decode_esr(esr)


@lru_cache(maxsize=4096)
def _sea_uncontainable(esr: int) -> bool:
    """An uncontainable synchronous External abort: FSC 0x10 with SET=UC (memoised by value).
    v2.14's rule; the v2.15/HEAD C port's "or" would call every SEA uncontainable."""
    f = _esr(esr).fields
    return f.get("DFSC", f.get("IFSC")) == k.ESR_ELx_FSC_EXTABT and f.get("SET") == SET_UC


def _same_el_esr(esr: int) -> int:
    """The ESR of the same abort taken without a change of EL (EC 0x24 -> 0x25, 0x20 -> 0x21)."""
    v = _esr(esr)
    return v._replace(EC=v.ec | 1).value


def _sdei_delegated(outcome) -> bool:
    """The record went to an SDEI source and was dispatched: that was the delegation."""
    return (outcome is not None and outcome[0] is not None
            and outcome[0].notify == "SOFTWARE_DELEGATED" and outcome[1] == "written")


class El3Firmware(RasMixin, SdeiMixin, Component):
    """The EL3 firmware of ``machine`` (Component ``fw``), with the tables of ``platform``."""

    def __init__(self, machine, platform, *, policy: El3Policy | None = None):
        super().__init__(machine.engine, "fw")
        self.machine, self.platform = machine, platform
        self.policy = policy = policy or El3Policy()
        self.ghes = GhesWriter(machine.engine, machine.memory, platform.hest_pa, unacked=policy.unacked,
                               queue_depth=policy.queue_depth, ack_poll_ns=policy.ack_poll_ns,
                               notify=self._notify_queued)
        # err_record_info: memory-mapped nodes (shared), and each PE's own node (system registers)
        self.pe_nodes = {id(pe.node): pe for pe in machine.pes if pe.node is not None}
        self.memmap_nodes = [n for n in machine.error_nodes if id(n) not in self.pe_nodes]
        self.mc_index = {n.name: i for i, n in enumerate(x for x in self.memmap_nodes if x.kind == "memory")}
        self.nodes = {n.name: n for n in machine.error_nodes}
        self.ras_interrupts = sorted(machine.ras_interrupts.items())  # REGISTER_RAS_INTERRUPTS
        self.sdei_events: dict[int, tuple[int, int]] = {}  # event -> (client EL, entry point)
        self._sdei_ctx: dict[int, tuple[int, int, int]] = {}  # PE -> (event, interrupted ELR, SPSR)
        self._double_fault: dict[int, int] = {}  # PE -> CTX_DOUBLE_FAULT_ESR
        self._targets: dict[tuple[str, ...], GhesTarget | None] = {}
        self._routes: dict[tuple, tuple[int, int, int]] = {}  # _inject_route, memoised
        self.handled = 0
        for pe in machine.pes:
            pe.install(3, self)
        if policy.ce_threshold:
            for node in machine.error_nodes:
                for n in range(node.num_records):
                    self._arm_ce_threshold(node, n)
        if policy.ce_poll_ns:
            self.engine.schedule(policy.ce_poll_ns, self.ras_poll_corrected)

    # --- the vectors ------------------------------------------------------------------
    def on_exception(self, pe, exc) -> None:
        """runtime_exceptions.S: dispatch by exception type and syndrome (the entry's
        context save is costed as ``el3_entry``; each ERET out, ``el3_exit``)."""
        self.spend("el3_entry")
        if exc.kind == "serror":
            if exc.from_el < 3:
                self.handler_lower_el_async_ea(pe, exc)
            else:
                self.plat_handle_el3_ea(pe, exc)
            return
        if exc.kind in ("fiq", "irq"):
            self.ras_interrupt_handler(pe, exc)
            return
        ec = (exc.esr & _EC_MASK) >> _EC_SHIFT  # ESR_ELx_EC(esr)
        if ec in _ABORTS_LOW or (exc.from_el < 3 and ec in (k.ESR_ELx_EC_IABT_CUR, k.ESR_ELx_EC_DABT_CUR)):
            self.handler_sync_exception(pe, exc)
        elif ec == k.ESR_ELx_EC_SMC64:
            self.smc_handler(pe, exc)
        elif exc.from_el == 3:
            self.plat_handle_el3_ea(pe, exc)
        else:
            self.trace("report_unhandled_exception", cpu=pe.index, esr=exc.esr, from_el=exc.from_el)
            self.machine.halt("EL3: unhandled exception", cpu=pe.index, esr=exc.esr)

    def el3_exit(self, pe) -> None:
        """el3_exit (lib/el3_runtime/aarch64/context.S): restore the context and ERET, costed
        as ``el3_exit``."""
        self.spend("el3_exit")
        pe.eret()

    def handler_sync_exception(self, pe, exc) -> None:
        """A lower-EL External abort (SCR_EL3.EA=1): uncontainable → panic; else handle and
        delegate with inject_sync_ea64 (unless the record went to an SDEI source, TF-A's
        SDEI_SUPPORT build, whose dispatch is the delegation)."""
        esr = exc.esr
        if _sea_uncontainable(esr):
            self.plat_handle_uncontainable_ea(pe, esr, reason=tr.ERROR_EA_SYNC)
            return
        outcome = self.ea_proceed(pe, tr.ERROR_EA_SYNC, esr, far=exc.far)
        if self.machine.halted or pe.pstate.el != 3:
            return
        if _sdei_delegated(outcome):
            return  # the SDEI dispatch delegated it
        self.inject_sync_ea64(pe)

    def handler_lower_el_async_ea(self, pe, exc) -> None:
        """A lower-EL SError: AET=UC (DFSC 0x11) → panic; else handle, then return (TF-A:
        el3_exit) or fake an SError entry at the EL that owns it (``policy.delegate_serror``).
        The UC test is TF-A v2.14's (ea_delegate.S delegate_async_ea: skipped for an
        IMPLEMENTATION DEFINED syndrome, IDS=1); v2.15.0's C port (common/runtime_svc.c)
        inverts it and tests AET only when IDS=1."""
        f = _esr(exc.esr).fields
        if f.get("DFSC") == k.ESR_ELx_FSC_SERROR and f.get("AET") == AET_UC:
            self.plat_handle_uncontainable_ea(pe, exc.esr, reason=tr.ERROR_EA_ASYNC)
            return
        outcome = self.ea_proceed(pe, tr.ERROR_EA_ASYNC, exc.esr)
        if self.machine.halted or pe.pstate.el != 3:
            return
        if _sdei_delegated(outcome):
            return
        mode = self.policy.delegate_serror
        corrected = f.get("DFSC") == k.ESR_ELx_FSC_SERROR and f.get("AET") == AET_CE
        if mode == "always" or (mode == "uncorrected" and not corrected):
            self.inject_serror(pe)
        else:
            self.el3_exit(pe)

    def plat_handle_el3_ea(self, pe, exc) -> None:
        """An External abort taken from EL3 itself: TF-A panics."""
        self.trace("plat_handle_el3_ea", cpu=pe.index, esr=exc.esr)
        self.machine.halt("EL3: External abort at EL3", cpu=pe.index, esr=exc.esr)

    # --- ea_proceed and the platform handler ------------------------------------------
    def ea_proceed(self, pe, reason: int, esr: int, *, far: int | None = None):
        """Record the ESR as CTX_DOUBLE_FAULT_ESR while the platform handler runs; an
        External abort arriving meanwhile is a double fault (plat_handle_double_fault)."""
        if pe.index in self._double_fault:
            self.trace("plat_handle_double_fault", cpu=pe.index, esr=esr,
                       first_esr=self._double_fault[pe.index])
            self.machine.halt("EL3: double fault", cpu=pe.index, esr=esr)
            return None
        self._double_fault[pe.index] = esr
        try:
            return self.plat_ea_handler(pe, reason, esr, far)
        finally:
            self._double_fault.pop(pe.index, None)

    def plat_ea_handler(self, pe, reason: int, esr: int, far: int | None):
        """plat_default_ea_handler: ras_ea_handler; nothing claimed it → policy.unhandled_ea."""
        outcome = self.ras_ea_handler(pe, reason, esr)
        if outcome is not None or self.machine.halted:
            return outcome
        if self.policy.unhandled_ea == "panic":
            self.trace("plat_default_ea_handler", cpu=pe.index, esr=esr, reason=tr.EA_REASONS[reason],
                       message=f"Unhandled External Abort received on 0x{pe.regs['MPIDR_EL1']:x} at EL3!")
            self.machine.halt("EL3: unhandled External Abort", cpu=pe.index, esr=esr)
            return None
        info = tr.syndrome_err_info(esr, far)
        sec = tr.proc_arm_section([info], self._el1_context(pe), midr=pe.regs["MIDR_EL1"],
                                  mpidr=pe.regs["MPIDR_EL1"])
        sev = tr.syndrome_severity(esr)
        est = cper.build_estatus([sec], error_severity=sev)
        return self._record(pe, reason, est, corrected=False)

    def ras_ea_handler(self, pe, reason: int, esr: int):
        """Probe every error record this PE can reach; handle what is found. None: nothing."""
        records = self.probe(pe)
        engine = self.engine
        engine.trace.emit(engine.now, self.name, "ras_ea_handler", {
            "cpu": pe.index, "reason": tr.EA_REASONS[reason], "syndrome": esr,
            "records": [summary(r) for r in records]})
        if not records:
            return None
        return self.handle_records(pe, reason, records)

    # --- notification and delegation ------------------------------------------------------
    def _delegation_el(self, pe, from_el: int, kind: str) -> int:
        """The EL the exception would have been taken to with SCR_EL3.EA=0 (or TF-A's rule)."""
        regs = pe.regs
        scr, hcr = regs["SCR_EL3"] & ~arch.SCR_EA, regs["HCR_EL2"]
        if kind == "sync" and self.policy.inject_target == "tf-a":
            if from_el == 2 or (from_el == 0 and hcr & arch.HCR_TEA and hcr & arch.HCR_TGE):
                return 2
            return 1
        if kind == "sync":
            target = arch.sea_target_el(scr, hcr, from_el, el2=pe.el2)
        else:
            target = arch.serror_target_el(scr, hcr, from_el, el2=pe.el2)
        return max(target, from_el, 1)

    def _inject_route(self, pe, kind: str, spsr3: int, key: tuple) -> tuple[int, int, int]:
        """(from_el, target EL, vector offset) of an injection: a pure function of ``key``
        (kind, SPSR_EL3, SCR_EL3, HCR_EL2, EL2 implemented, policy.inject_target), memoised."""
        mode = arch.spsr_decode(spsr3)
        from_el, sp = (mode[0], mode[1]) if mode else (1, 1)
        target = self._delegation_el(pe, from_el, kind)
        if len(self._routes) > 1024:
            self._routes.clear()
        route = self._routes[key] = (from_el, target, arch.vector_offset(target, from_el, sp, kind))
        return route

    def _inject(self, pe, kind: str, name: str) -> None:
        """inject_exception: the target EL's ESR/FAR/ELR/SPSR from EL3's, ELR_EL3 = the target's
        vector, SPSR_EL3 = the target ELh with DAIF masked (create_spsr), then ERET."""
        regs = pe.regs
        spsr3, elr3 = regs["SPSR_EL3"], regs["ELR_EL3"]
        key = (kind, spsr3, regs["SCR_EL3"], regs["HCR_EL2"], pe.el2, self.policy.inject_target)
        route = self._routes.get(key)
        if route is None:
            route = self._inject_route(pe, kind, spsr3, key)
        from_el, target, offset = route
        esr = regs["ESR_EL3"]
        sync = kind == "sync"
        if sync and target == from_el:
            esr = _same_el_esr(esr)
        regs[_ESR_EL[target]] = esr
        fields: dict[str, Any] = {"cpu": pe.index, "target_el": target, "from_el": from_el, "esr": esr}
        if sync:
            far = regs[_FAR_EL[target]] = regs["FAR_EL3"]
            if far is not None:
                fields["far"] = far
        regs[_ELR_EL[target]] = elr3
        regs[_SPSR_EL[target]] = spsr3
        regs["ELR_EL3"] = regs[_VBAR_EL[target]] + offset
        regs["SPSR_EL3"] = arch.SPSR_ELH_MASKED[target]  # create_spsr
        fields["elr"], fields["spsr"], fields["vector"] = elr3, spsr3, offset
        engine = self.engine
        engine.trace.emit(engine.now, self.name, name, fields)
        self.el3_exit(pe)

    def inject_sync_ea64(self, pe) -> None:
        """Delegate the synchronous External abort (TF-A ea_delegate.S/inject_sync_ea64):
        ESR copied from ESR_EL3 with the EC of a same-EL abort when the target is the EL the
        abort came from, FAR copied, ELR/SPSR of the target from ELR_EL3/SPSR_EL3."""
        self._inject(pe, "sync", "inject_sync_ea64")

    def inject_serror(self, pe) -> None:
        """Delegate the SError the same way, to the SError vector of the owning EL."""
        self._inject(pe, "serror", "inject_serror")

    # --- uncontainable --------------------------------------------------------------------
    def plat_handle_uncontainable_ea(self, pe, esr: int, *, reason: int, records=None) -> None:
        """Uncontainable: log a fatal record into the boot error region (BERT, read at the
        next boot) and panic the platform."""
        recs = self.probe(pe) if records is None else list(records)
        for rec in recs:
            self.clear_record(pe, rec)
        if recs:
            infos = [tr.arm_err_info(r, first=i == 0, last=i == len(recs) - 1) for i, r in enumerate(recs)]
        else:
            infos = [tr.syndrome_err_info(esr, None)]
        sec = tr.proc_arm_section(infos, self._el1_context(pe), midr=pe.regs["MIDR_EL1"],
                                  mpidr=pe.regs["MPIDR_EL1"])
        est = cper.build_estatus([sec], error_severity=cn.CPER_SEV_FATAL)
        data = est.encode()
        self.machine.memory.write(self.platform.boot_error_region_pa, data)
        self.trace("plat_handle_uncontainable_ea", cpu=pe.index, reason=tr.EA_REASONS[reason],
                   esr=esr, records=[summary(r) for r in recs], bert_bytes=len(data))
        self.machine.halt("EL3: uncontainable error", cpu=pe.index, esr=esr)

    def smc_handler(self, pe, exc) -> None:
        """SMC: SDEI_EVENT_COMPLETE/_AND_RESUME (function number in the immediate) restore
        the interrupted context; anything else returns SMC_UNK."""
        imm = _esr(exc.esr).fields.get("imm16", 0)
        if not self.sdei_complete(pe, imm):
            self.trace("smc_unknown", cpu=pe.index, imm=imm, result=SMC_UNK)
        self.el3_exit(pe)
