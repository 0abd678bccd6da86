"""struct kvm_vcpu and the world switch (arch/arm64/kvm/hyp/vhe/switch.c, hyp/entry.S,
hyp/hyp-entry.S): entering the guest (activate traps, VSESR_EL2, __guest_enter's ISR_EL1
check), and the hyp vector that takes its exits (ESB, __guest_exit, the exit code). What
KVM then does with an exit is handle_exit.py; the run loop, arm.py."""

from __future__ import annotations

from operator import itemgetter

from ..formats.arm import kernel as ak
from ..formats.arm.sysreg import HCR_EL2
from ..formats.linux import kvm as uapi
from ..formats.linux.kvm import EXIT_REASONS, KVM_RUN_EXIT_OFFSET

ARM_EXCEPTION_IRQ, ARM_EXCEPTION_EL1_SERROR, ARM_EXCEPTION_TRAP = 0, 1, 2
EXIT_CODES = {0: "ARM_EXCEPTION_IRQ", 1: "ARM_EXCEPTION_EL1_SERROR", 2: "ARM_EXCEPTION_TRAP"}
_EXIT_OF_KIND = {"sync": ARM_EXCEPTION_TRAP, "serror": ARM_EXCEPTION_EL1_SERROR}  # else IRQ
HCR_VSE = HCR_EL2.encode(VSE=1)
HCR_VI = HCR_EL2.encode(VI=1)
EL1_SYSREGS = ("ESR_EL1", "FAR_EL1", "ELR_EL1", "SPSR_EL1", "VBAR_EL1")
_el1_sysregs_of = itemgetter(*EL1_SYSREGS)  # their values in a PE's registers, in that order
IPI_RESCHEDULE = 0  # an SGI


def hcr_guest_flags(ras: bool) -> int:
    """HCR_GUEST_FLAGS (+ TEA/TERR with the RAS extension)."""
    return HCR_EL2.encode(RW=1, VM=1, AMO=1, IMO=1, FMO=1, TSC=1, TWI=1, TEA=int(ras),
                          TERR=int(ras))


class KvmVcpu:
    """struct kvm_vcpu: its context while not running, its fault info, its kvm_run page."""

    def __init__(self, vm, index: int, task):
        self.vm, self.index, self.task = vm, index, task
        self.kvm = vm.kvm
        self.pe = vm.kvm.host.machine.pes[task.cpu]
        self.run = bytearray(uapi.KVM_RUN_SIZE)
        self.initialized = False
        self.started = False
        self.el1_handler = None
        self.hcr_el2 = hcr_guest_flags(self.kvm.ras)
        self.vsesr_el2 = 0
        self.pc = 0
        self.pstate = 0
        self.sysregs = dict.fromkeys(EL1_SYSREGS, 0)
        self.sysregs["VBAR_EL1"] = self.pe.regs["VBAR_EL1"]
        self.fault: dict[str, int] = {}
        self.exit_code: int | None = None
        self.exit_event = None
        self._host_el2 = None
        self._host_hcr = 0
        self.stash: tuple | None = None  # delegated: ELR, SPSR, ESR of EL2, FAR, live EL1 regs
        self.agent_entry: int | None = None  # the guest's registered recovery agent
        self.el1_entries: dict = {}  # the guest's software entry points at EL1 (the agent)
        self.pending_virq: list[int] = []  # the vGIC's pending SPIs for this vCPU

    def trace(self, name: str, **fields) -> None:
        kvm = self.kvm
        kvm.engine.trace.emit(kvm.engine.now, kvm.name, name,
                              {"vm": self.vm.name, "vcpu": self.index, **fields})

    def set_exit(self, reason: int, payload: bytes = b"") -> None:
        """kvm_run.exit_reason (the rest of its head as it is) and the exit's payload."""
        self.kvm.spend("kvm_exit_to_user")
        run = self.run
        uapi.kvm_run_set_exit_reason(run, reason)
        run[KVM_RUN_EXIT_OFFSET:KVM_RUN_EXIT_OFFSET + 64] = payload.ljust(64, b"\0")
        self.trace("kvm_userspace_exit", reason=EXIT_REASONS.get(reason, reason),
                   payload=payload.hex() if payload else None)

    # --- the world switch --------------------------------------------------------------
    def kvm_vcpu_run(self) -> None:
        """__kvm_vcpu_run(): load the guest and enter it (the first entry boots its kernel)."""
        pe, handlers, regs = self.pe, self.pe.handlers, self.pe.regs
        self._host_el2, self._host_hcr = handlers[2], regs["HCR_EL2"]
        handlers[2] = self  # pe.install(2, self), inline: VBAR_EL2 = __kvm_hyp_vector
        if self.el1_handler is not None:
            handlers[1] = self.el1_handler  # pe.install(1, ...)
            pe.entry_points[1] = self.el1_entries
        regs.update(self.sysregs)
        if self.pending_virq:  # the vGIC list register: HCR_EL2.VI with the INTID
            self.hcr_el2 |= HCR_VI
            pe.virq = self.pending_virq[0]
        hcr = self.hcr_el2
        vse = self.kvm.ras and hcr & HCR_VSE
        if vse:  # ___activate_traps
            regs["VSESR_EL2"] = self.vsesr_el2
            self.trace("kvm_entry", pc=self.pc, hcr_el2=hcr, vsesr_el2=self.vsesr_el2)
        else:
            self.trace("kvm_entry", pc=self.pc, hcr_el2=hcr)
        self.task.kick = self.kvm_vcpu_kick
        pe.write_sysreg("HCR_EL2", self.hcr_el2)
        if not self.started:
            self.started = True
            self.vm.view.enter(self, pe)
            return
        if pe.isr_el1:  # __guest_enter (hyp/entry.S): something already pending: no entry
            self.guest_enter_aborted(pe)
            return
        pe.eret(elr=self.pc, spsr=self.pstate)

    def guest_enter_aborted(self, pe) -> None:
        """__guest_enter reads ISR_EL1 after saving the host; an interrupt (or SError)
        already pending makes it return ARM_EXCEPTION_IRQ without entering the guest, so the
        host takes it first (arch/arm64/kvm/hyp/entry.S). The fault info stays as last
        saved."""
        f = self.fault or {"esr_el2": 0, "far_el2": 0, "hpfar_el2": 0}
        self._to_host(pe, ARM_EXCEPTION_IRQ, f["esr_el2"], f["far_el2"], f["hpfar_el2"],
                      guest_enter="ISR_EL1")

    def _to_host(self, pe, code: int, esr: int, far: int, hpfar: int, **fields) -> None:
        """The host again (HCR_EL2, its EL2 vectors, no kick), and the exit code to the run
        loop, traced as kvm_exit. The switch back costs ``world_switch`` (the way in is the
        run loop's wait before kvm_vcpu_run)."""
        self.kvm.spend("world_switch")
        pe.regs["HCR_EL2"] = self._host_hcr
        pe.handlers[2] = self._host_el2  # pe.install(2, ...), inline
        self.task.kick = None
        self.exit_code = code
        self.trace("kvm_exit", exit_code=EXIT_CODES[code & 3], esr=esr,
                   esr_ec=ak.esr_get_class_string(esr), far=far, hpfar=hpfar, pc=self.pc,
                   **fields)
        if self.exit_event is not None and not self.exit_event.triggered:
            self.exit_event.succeed(code)

    def on_exception(self, pe, exc) -> None:
        """__kvm_hyp_vector -> __guest_exit: save the guest, restore the host, exit code.

        Every valid vector starts with ESB (valid_vect, arch/arm64/kvm/hyp/hyp-entry.S): a
        guest SError that the exception entry made pending, masked at EL2, is deferred into
        DISR_EL1, which __guest_exit reads into vcpu->arch.fault.disr_el1 and clears, setting
        ARM_EXIT_WITH_SERROR_BIT (arch/arm64/kvm/hyp/entry.S)."""
        regs = pe.regs
        if self.kvm.ras:
            pe.esb()
        code = _EXIT_OF_KIND.get(exc.kind, ARM_EXCEPTION_IRQ)
        self.pc, self.pstate = regs["ELR_EL2"], regs["SPSR_EL2"]
        esr, far, hpfar = regs["ESR_EL2"], regs["FAR_EL2"], regs["HPFAR_EL2"]
        self.fault = fault = {"esr_el2": esr, "far_el2": far, "hpfar_el2": hpfar, "disr_el1": 0}
        if self.kvm.ras:
            disr = pe.read_sysreg("DISR_EL1")
            if disr:
                fault["disr_el1"] = disr
                pe.write_sysreg("DISR_EL1", 0)
                code |= 1 << 31  # ARM_EXIT_WITH_SERROR_BIT
        self.sysregs.update(zip(EL1_SYSREGS, _el1_sysregs_of(regs)))  # noqa: B905 - same length
        guest_hcr = regs["HCR_EL2"]
        if not guest_hcr & HCR_VSE:  # ___deactivate_traps: the guest took it
            self.hcr_el2 &= ~HCR_VSE
        if self.hcr_el2 & HCR_VI and not guest_hcr & HCR_VI:  # the vIRQ was taken
            self.hcr_el2 &= ~HCR_VI
            self.pending_virq.pop(0)
        self._to_host(pe, code, esr, far, hpfar)

    def kvm_vcpu_kick(self) -> None:
        """A signal for the vCPU thread while in guest mode: an IPI makes the guest exit."""
        self.pe.raise_interrupt(IPI_RESCHEDULE)
