"""One vCPU: the run loop (kvm_arch_vcpu_ioctl_run), the world switch (activate/deactivate
traps, VSESR_EL2), the hyp vector that takes guest exits, handle_exit and the guest
SError/SEA handling, and exception injection (inject_abt64, virtual SError)."""

from __future__ import annotations

from operator import itemgetter

from ..engine import Event
from ..formats.arm import kernel as ak
from ..formats.arm.esr import decode_esr, encode_esr
from ..formats.arm.sysreg import HCR_EL2
from ..formats.arm.sysreg_fault import HPFAR_EL2
from ..formats.linux import kvm as uapi
from ..formats.linux.errno import EINTR
from ..formats.linux.kvm import EXIT_REASONS, KVM_RUN_EXIT_OFFSET
from ..hw.arch import SPSR_ELH_MASKED, spsr_decode, vector_offset
from .mmu import kvm_handle_guest_abort

ARM_EXCEPTION_IRQ, ARM_EXCEPTION_EL1_SERROR, ARM_EXCEPTION_TRAP = 0, 1, 2
EXIT_CODES = {0: "ARM_EXCEPTION_IRQ", 1: "ARM_EXCEPTION_EL1_SERROR", 2: "ARM_EXCEPTION_TRAP"}
_EXIT_OF_KIND = {"sync": ARM_EXCEPTION_TRAP, "serror": ARM_EXCEPTION_EL1_SERROR}  # else IRQ
HCR_VSE = HCR_EL2.encode(VSE=1)
HCR_VI = HCR_EL2.encode(VI=1)
EL1_SYSREGS = ("ESR_EL1", "FAR_EL1", "ELR_EL1", "SPSR_EL1", "VBAR_EL1")
_el1_sysregs_of = itemgetter(*EL1_SYSREGS)  # their values in a PE's registers, in that order
_FIPA = HPFAR_EL2.by_name["FIPA"]
IPI_RESCHEDULE = 0  # an SGI
GUEST_ENTRY_NS = 500  # from KVM_RUN (or a handled exit) to the guest running again


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
        self._exit = None
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

    # --- KVM_RUN -----------------------------------------------------------------------------
    def kvm_arch_vcpu_ioctl_run(self):
        host, task = self.kvm.host, self.task
        while True:
            if task.task_works:  # xfer_to_guest_mode_handle_work: resume_user_mode_work
                works, task.task_works = task.task_works, []
                for w in works:
                    w()
            if task.pending or not task.alive:
                self.set_exit(uapi.KVM_EXIT_INTR)
                return -EINTR
            if self.vm.halted or host.machine.halted:
                return -EINTR
            yield GUEST_ENTRY_NS
            if task.pending or self.vm.halted or host.machine.halted:
                continue
            self._exit = Event(self.kvm.engine)
            self.__kvm_vcpu_run()
            code = yield self._exit
            if host.machine.halted:
                return -EINTR
            ret = yield from self.handle_exit(code)
            if ret <= 0:
                return ret

    def set_exit(self, reason: int, payload: bytes = b"") -> None:
        """kvm_run.exit_reason (the rest of its head as it is) and the exit's payload."""
        run = self.run
        uapi.kvm_run_set_exit_reason(run, reason)
        run[KVM_RUN_EXIT_OFFSET:KVM_RUN_EXIT_OFFSET + 64] = payload.ljust(64, b"\0")
        self.trace("kvm_userspace_exit", reason=EXIT_REASONS.get(reason, reason),
                   payload=payload.hex() if payload else None)

    # --- the world switch --------------------------------------------------------------
    def __kvm_vcpu_run(self) -> None:
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
        host takes it first (arch/arm64/kvm/hyp/entry.S)."""
        pe.regs["HCR_EL2"] = self._host_hcr
        pe.handlers[2] = self._host_el2
        self.task.kick = None
        self.exit_code = ARM_EXCEPTION_IRQ
        f = self.fault or {"esr_el2": 0, "far_el2": 0, "hpfar_el2": 0}  # as last saved
        self.trace("kvm_exit", exit_code=EXIT_CODES[ARM_EXCEPTION_IRQ], esr=f["esr_el2"],
                   esr_ec=ak.esr_get_class_string(f["esr_el2"]), far=f["far_el2"],
                   hpfar=f["hpfar_el2"], pc=self.pc, guest_enter="ISR_EL1")
        self._exit.succeed(ARM_EXCEPTION_IRQ)

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
        regs["HCR_EL2"] = self._host_hcr
        pe.handlers[2] = self._host_el2  # pe.install(2, ...), inline
        self.task.kick = None
        self.exit_code = code
        self.trace("kvm_exit", exit_code=EXIT_CODES[code & 3], esr=esr,
                   esr_ec=ak.esr_get_class_string(esr), far=far, hpfar=hpfar, pc=self.pc)
        if self._exit is not None and not self._exit.triggered:
            self._exit.succeed(code)

    # --- handle_exit --------------------------------------------------------------------
    def handle_exit(self, code: int):
        """handle_exit_early (SErrors) then handle_exit: 1 resumes the guest, 0 exits to
        user space (kvm_run.exit_reason set), < 0 is an error."""
        esr = self.fault["esr_el2"]
        if code & 1 << 31:
            self.kvm_handle_guest_serror(ak.disr_to_esr(self.fault["disr_el1"]))
        code &= 3
        if code == ARM_EXCEPTION_EL1_SERROR:
            if "serror_exit_2017" in self.vm.flags and self.kvm.ras:
                return self.kvm_handle_guest_sei_2017(esr)
            if "delegated_ea" in self.vm.flags and self.agent_entry is not None:
                self.delegate(esr, "serror")
                return 1
            self.kvm_handle_guest_serror(esr)
            return 1
        if code == ARM_EXCEPTION_IRQ:  # the host takes its interrupt (a kick, a GHES GSIV)
            pe = self.pe
            if pe.active_interrupts:  # taken from the guest by the hyp vector
                self.kvm.host.arch.handle_irq(pe)
            else:  # still pending (__guest_enter did not enter): local_irq_enable()
                pe.daifclr("I")
                pe.daifset("I")
            return 1
        if code != ARM_EXCEPTION_TRAP:
            return 1
        ec = ak.ESR_ELx_EC(esr)
        if ec in (ak.ESR_ELx_EC_IABT_LOW, ak.ESR_ELx_EC_DABT_LOW):
            if ak.kvm_vcpu_abt_issea(esr):
                return (yield from self.kvm_handle_guest_sea(esr))
            return kvm_handle_guest_abort(self, esr)
        if ec == ak.ESR_ELx_EC_HVC64:
            return self.handle_hvc(decode_esr(esr).fields["imm16"])
        return 1

    def kvm_handle_guest_serror(self, esr: int) -> None:
        action = ak.kvm_handle_guest_serror_action(esr, has_ras=self.kvm.ras)
        self.trace("kvm_handle_guest_serror", esr=esr, action=action)
        if action == ak.PANIC:
            self.kvm.host.arch.arm64_serror_panic(self.pe, esr)
        elif action == "kvm_inject_serror":
            self.kvm_inject_serror_esr(uapi.ESR_ELX_ISV)

    def kvm_handle_guest_sea(self, esr: int):
        """arch/arm64/kvm/mmu.c kvm_handle_guest_sea() (v6.17+): apei_claim_sea(NULL) first;
        an SEA the host claimed resumes the guest. Otherwise, by the VM's flags: a virtual
        SError (host_owns_sea() -- no RAS extension -- or no KVM_ARCH_FLAG_EXIT_SEA), or
        KVM_EXIT_ARM_SEA. A VM opted into delegation whose guest registered its agent hands
        every SEA to the agent."""
        flags = self.vm.flags
        rc = yield from self.kvm.host.arch.apei_claim_sea(self.pe)
        self.trace("kvm_handle_guest_sea", esr=esr, apei_claim_sea=rc)
        if "delegated_ea" in flags and self.agent_entry is not None:
            self.delegate(esr, "sync")
            return 1
        if rc == 0:
            return 1
        if not self.kvm.ras or "exit_sea" not in flags:
            self.kvm_inject_serror_esr(uapi.ESR_ELX_ISV)
            return 1
        return self.exit_arm_sea(esr)

    def exit_arm_sea(self, esr: int) -> int:
        """KVM_EXIT_ARM_SEA: the sanitised ESR, gva (FAR_EL2) when FnV=0, gpa =
        kvm_vcpu_get_fault_ipa() -- a page address, as selftests/kvm/arm64/sea_to_user.c
        asserts (``gpa == einj_gpa & PAGE_ADDR_MASK``)."""
        masked = uapi.arm_sea_exit_esr(esr, guest_has_ras=self.vm.guest_ras)
        gva = 0 if esr & ak.ESR_ELx_FnV else self.fault["far_el2"]
        gpa = self.fault_ipa()
        payload = uapi.KvmExitArmSea(flags=uapi.KVM_EXIT_ARM_SEA_FLAG_GPA_VALID, esr=masked,
                                     gva=gva, gpa=gpa).encode()
        self.set_exit(uapi.KVM_EXIT_ARM_SEA, payload)
        return 0

    def kvm_handle_guest_sei_2017(self, esr: int) -> int:
        """The 2017 proposal for a guest SError, as its author set it out in review
        (gengdongjiu, linux-arm-kernel, 2017-10-15, "Re: [PATCH v3 15/20] KVM: arm64: Set an
        impdef ESR for Virtual-SError using VSESR_EL2"): with the RAS extension KVM
        classifies ESR_EL2 first (:func:`sei_2017_class`), then exits to user space with the
        syndrome the guest should get, or terminates the guest, or panics the host. CE and
        UEO, which the proposal does not name, are left as upstream leaves them."""
        how = sei_2017_class(esr, self.pstate)
        self.trace("kvm_handle_guest_sei", esr=esr, action=how)
        if how == "panic":
            self.kvm.host.arch.arm64_serror_panic(self.pe, esr)
            return -1
        if how == "terminate":
            return -1  # "return -1 to terminate guest": KVM_RUN fails with -EPERM
        if how == "ignore":
            return 1
        return self.exit_syndrome(uapi.ESR_ELX_ISV if how == "impdef"
                                  else ak.ESR_ELx_AET_UER | ak.ESR_ELx_FSC_SERROR)

    def exit_syndrome(self, syndrome: int) -> int:
        """The 2017 exit: KVM_EXIT_EXCEPTION with the syndrome KVM chose for the guest and an
        address built from HPFAR_EL2 and FAR_EL2's page offset (stale for an SError:
        neither is written by one)."""
        address = self.fault_ipa() | (self.fault["far_el2"] & 0xFFF)
        payload = uapi.KvmExitSError2017(syndrome_info=syndrome, address=address).encode()
        self.set_exit(uapi.KVM_EXIT_EXCEPTION, payload)
        return 0

    def fault_ipa(self) -> int:
        """kvm_vcpu_get_fault_ipa() (arch/arm64/include/asm/kvm_emulate.h): HPFAR_EL2.FIPA
        << 12, the faulting page's IPA."""
        fipa = (self.fault["hpfar_el2"] >> _FIPA.lsb) & _FIPA.max
        return fipa << 12

    def kvm_vcpu_kick(self) -> None:
        """A signal for the vCPU thread while in guest mode: an IPI makes the guest exit."""
        self.pe.raise_interrupt(IPI_RESCHEDULE)

    # --- injection -------------------------------------------------------------------------
    def kvm_inject_serror_esr(self, esr: int) -> None:
        """A virtual SError: VSESR_EL2 = esr[24:0], HCR_EL2.VSE (written at the next entry)."""
        self.vsesr_el2 = esr & uapi.ESR_ELX_ISS_MASK
        self.hcr_el2 |= HCR_VSE
        self.trace("kvm_inject_serror", vsesr_el2=self.vsesr_el2)

    def inject_abt64(self, addr: int, *, is_iabt: bool = False, esr: int | None = None) -> None:
        """An External abort for the guest's EL1: ESR_EL1/FAR_EL1, then enter_exception64
        (ELR_EL1, SPSR_EL1, PSTATE = EL1h masked, PC = VBAR_EL1 + offset)."""
        from_el, sp = (spsr_decode(self.pstate) or (1, 1))[:2]
        if esr is None:  # EC IABT_LOW/CUR, or-ed with DABT_LOW for a data abort, as KVM does
            ec = ak.ESR_ELx_EC_IABT_LOW if from_el == 0 else ak.ESR_ELx_EC_IABT_CUR
            if not is_iabt:
                ec |= ak.ESR_ELx_EC_DABT_LOW
            esr = encode_esr(EC=ec, IL=1, ISS=ak.ESR_ELx_FSC_EXTABT)
        self.sysregs.update(ESR_EL1=esr, FAR_EL1=addr, ELR_EL1=self.pc, SPSR_EL1=self.pstate)
        self.pc = self.sysregs["VBAR_EL1"] + vector_offset(1, from_el, sp, "sync")
        self.pstate = SPSR_ELH_MASKED[1]
        self.trace("kvm_inject_abt", esr_el1=esr, far_el1=addr, vector=self.pc)

    # --- delegated exception handling (the Arm RAS PRD) ------------------------------------
    def delegate(self, esr: int, kind: str) -> None:
        """Enter the guest's delegated error recovery agent with the error: stash
        ELR/SPSR/ESR_EL2 and the live ELR/SPSR/ESR/FAR_EL1, put the error in the EL1
        registers as an exception entry to EL1 would (ESR_EL1 the syndrome, with an abort's
        EC as the guest sees it; FAR_EL1 for an abort; ELR_EL1/SPSR_EL1 where the guest was)
        and ERET into the agent, EL1h with DAIF masked. A proposal, not in Linux: the steps
        are the PRD's; the ABI (formats.linux.kvm DELEGATED_EA_*) is rasflow's."""
        s = self.sysregs
        far = self.fault["far_el2"]
        self.stash = (self.pc, self.pstate, esr, far,
                      (s["ELR_EL1"], s["SPSR_EL1"], s["ESR_EL1"], s["FAR_EL1"]))
        if kind == "sync":
            s.update(ESR_EL1=_guest_abort_esr(esr, self.pstate), FAR_EL1=far)
        else:
            s["ESR_EL1"] = esr
        s.update(ELR_EL1=self.pc, SPSR_EL1=self.pstate)
        self.pc, self.pstate = self.agent_entry, SPSR_ELH_MASKED[1]
        self.trace("kvm_delegate", esr_el2=esr, elr_el2=self.stash[0], spsr_el2=self.stash[1],
                   esr_el1=s["ESR_EL1"], agent=self.agent_entry)

    def handle_hvc(self, imm: int) -> int:
        """HVC from the guest. The delegated agent's calls: register (the VM opted in with
        KVM_CAP_ARM_DELEGATED_EA), and, with an error delegated, restore the stashed context
        and then set HCR_EL2.VSE with VSESR_EL2 = the stashed syndrome's ISS (a virtual
        SError), or inject the synchronous External abort, or nothing more. After a guest
        panic (its HVC on the way down): KVM_EXIT_SYSTEM_EVENT."""
        if imm == uapi.DELEGATED_EA_HVC_REGISTER:
            ok = "delegated_ea" in self.vm.flags
            if ok:
                self.agent_entry = self.sysregs["VBAR_EL1"] + uapi.DELEGATED_EA_AGENT_OFFSET
            self.trace("kvm_delegated_ea_register", entry=self.agent_entry, ret=0 if ok else -1)
            return 1
        call = _DELEGATED_CALLS.get(imm)
        if call is not None and self.stash is not None:
            elr, spsr, esr, far, el1 = self.stash
            self.stash = None
            self.pc, self.pstate = elr, spsr
            self.sysregs.update(zip(("ELR_EL1", "SPSR_EL1", "ESR_EL1", "FAR_EL1"), el1,
                                    strict=True))
            self.trace("kvm_delegated_ea_return", call=call, elr_el2=elr, spsr_el2=spsr)
            if call == "vserror":
                self.kvm_inject_serror_esr(esr & uapi.ESR_ELX_ISS_MASK)
            elif call == "sea":
                self.inject_abt64(far, esr=_guest_abort_esr(esr, spsr))
            return 1
        if self.vm.halted:
            self.set_exit(uapi.KVM_EXIT_SYSTEM_EVENT,
                          uapi.KVM_SYSTEM_EVENT_CRASH.to_bytes(4, "little"))
            return 0
        return 1


_DELEGATED_CALLS = {uapi.DELEGATED_EA_HVC_VSERROR: "vserror", uapi.DELEGATED_EA_HVC_RESUME: "resume",
                    uapi.DELEGATED_EA_HVC_SEA: "sea"}


def _guest_abort_esr(esr_el2: int, pstate: int) -> int:
    """The ESR_EL1 of a data abort the guest takes at EL1 for ``esr_el2``: the EC of an abort
    from the guest's EL (DABT_LOW from EL0, DABT_CUR from EL1), the rest as ESR_EL2 has it."""
    from_el = (spsr_decode(pstate) or (1,))[0]
    ec = ak.ESR_ELx_EC_DABT_LOW if from_el == 0 else ak.ESR_ELx_EC_DABT_CUR
    return ec << ak.ESR_ELx_EC_SHIFT | esr_el2 & ~ak.ESR_ELx_EC_MASK


def sei_2017_class(esr: int, guest_pstate: int) -> str:
    """The 2017 proposal's classification of a guest SError (RAS extension present): an
    IMPLEMENTATION DEFINED or uncategorized syndrome -> "impdef" (exit: the VMM picks an
    impdef vSError, ESR_ELx_ISV); UC (propagated) -> "panic" the host; a categorized,
    unpropagated UEU/UER from the guest's EL0 -> "user" (exit: a recoverable syndrome, UER),
    from the guest kernel -> "terminate" the guest; CE and UEO -> "ignore" (the CPU can
    make progress, as arm64_is_fatal_ras_serror says)."""
    if esr & ak.ESR_ELx_IDS or esr & ak.ESR_ELx_FSC != ak.ESR_ELx_FSC_SERROR:
        return "impdef"
    aet = esr & ak.ESR_ELx_AET
    if aet == ak.ESR_ELx_AET_UC:
        return "panic"
    if aet in (ak.ESR_ELx_AET_CE, ak.ESR_ELx_AET_UEO):
        return "ignore"
    return "user" if (spsr_decode(guest_pstate) or (1,))[0] == 0 else "terminate"
