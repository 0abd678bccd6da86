"""The kernel's vectors: el0/el1 sync → do_mem_abort → do_sea; SError → do_serror.

An abort runs as an engine process: the work done in the exception (the NMI-like part of
APEI), then the irq_work it queued, then ret_to_user (task_work, signal delivery, ERET), each
its own scheduled event. The hw program runner stops when its EL is left, so a user program
does not resume after a deferred ERET (the PE does return to EL0 at ELR). do_serror has no
deferred work and returns in the exception.
"""

from __future__ import annotations

from ...formats.arm import kernel as ak
from ...formats.linux.siginfo import BUS_MCEERR_AR, BUS_OBJERR, SIGBUS, SIGSEGV
from ..task import SigInfo, force_sig_info, get_signal

ESR_ELx_EC_DABT_LOW, ESR_ELx_EC_DABT_CUR = 0x24, 0x25
ESR_ELx_EC_IABT_LOW, ESR_ELx_EC_IABT_CUR = 0x20, 0x21
ESR_ELx_EC_SVC64 = 0x15
SDEI_EVENT_COMPLETE = 0x25  # SDEI function number (in the SMC immediate: no GPRs here)
ESR_ELx_FnV = 1 << 10
FSC_SEA = (0x10, 0x14, 0x15, 0x16, 0x17, 0x13)  # SEA and SEA on table walk, levels -1..3
FSC_SECC = (0x18, 0x1C, 0x1D, 0x1E, 0x1F, 0x1B)
FAULT_NAMES = {0x10: "synchronous external abort", 0x18: "synchronous parity or ECC error"}
_ABORT_ECS = frozenset((ESR_ELx_EC_DABT_LOW, ESR_ELx_EC_DABT_CUR, ESR_ELx_EC_IABT_LOW,
                        ESR_ELx_EC_IABT_CUR))
_ESR_ELx_EC = ak.ESR_ELx_EC


class ArchEntry:
    """The exception vectors of one kernel (installed at its EL on every PE)."""

    def __init__(self, kernel):
        self.kernel = kernel
        self._abort_name = f"{kernel.name}:abort"  # the engine process names
        self._irq_work_name = f"{kernel.name}:irq_work"

    def on_exception(self, pe, exc) -> None:
        """The vector: kernel_entry saves the interrupted context (``exception_entry`` in the
        cost model), then the handler by exception type (entry-common.c)."""
        k = self.kernel
        k.spend("exception_entry")
        k.this_cpu = k.cpu_id(pe)
        kind = exc.kind
        if k.ras_agent is not None and exc.from_el == 0:
            k.ras_agent.el0_entry(pe)  # its ESB and DISR_EL1, before anything else
        if kind == "serror":
            self.do_serror(pe, exc)  # all in the exception: no deferred work
            return
        if kind == "irq":
            self.el_interrupt(pe, exc)
            return
        esr = exc.esr
        if kind != "sync" or esr is None:
            k.trace("unhandled_entry", cpu=pe.index, exception=kind)
            return
        ec = _ESR_ELx_EC(esr)
        if ec == ESR_ELx_EC_SVC64 and exc.from_el == 0:
            k.trace("el0_svc", cpu=pe.index, imm=esr & 0xFFFF)
            self.exit_to_user_mode(pe)
            return
        if ec in _ABORT_ECS:
            k.engine.process(self.do_mem_abort(pe, exc), name=self._abort_name)
        else:
            k.trace("unhandled_entry", cpu=pe.index, exception=exc.kind, ec=ec)

    # --- synchronous aborts --------------------------------------------------------------
    def do_mem_abort(self, pe, exc):
        fsc = exc.esr & 0x3F
        if fsc in FSC_SEA or fsc in FSC_SECC:
            yield from self.do_sea(pe, exc, FAULT_NAMES[0x10 if fsc in FSC_SEA else 0x18])
        else:
            k = self.kernel
            k.trace("do_mem_abort", cpu=pe.index, esr=exc.esr, far=exc.far, fsc=fsc)
            task = k.current_task(k.cpu_id(pe))
            if exc.from_el == 0 and task is not None and (exc.far or 0) & ~0xFFF in task.poisoned:
                # do_page_fault: the pte is a hwpoison entry -> VM_FAULT_HWPOISON
                force_sig_info(k, task, SigInfo(SIGBUS, BUS_MCEERR_AR, exc.far, 12))
                yield from self.ret_to_user(pe)
                return
            yield from self.arm64_notify_die(pe, exc, "level 3 translation fault", 11, 1)

    def do_sea(self, pe, exc, name: str):
        k = self.kernel
        k.this_cpu = k.cpu_id(pe)
        user = exc.from_el == 0
        engine = k.engine  # k.trace(...), inline (here and on the other per-flow events)
        engine.trace.emit(engine.now, k.name, "do_sea",
                          {"cpu": pe.index, "esr": exc.esr, "far": exc.far, "user": user})
        if user:
            rc = yield from self.apei_claim_sea(pe)
            if rc == 0:
                yield from self.ret_to_user(pe)
                return
        yield from self.arm64_notify_die(pe, exc, name, SIGBUS, BUS_OBJERR)

    def apei_claim_sea(self, pe):
        """nmi_enter; ghes_notify_sea; nmi_exit; then (irqs were on at EL0) irq_work_run."""
        k = self.kernel
        ghes = k.ghes
        if ghes is None:
            return -2
        k.this_cpu = cpu = k.cpu_id(pe)
        rc = ghes.ghes_notify_sea()
        if rc == 0:
            yield k.engine.process(ghes.ghes_proc_in_irq(cpu), name=self._irq_work_name)
        engine = k.engine
        engine.trace.emit(engine.now, k.name, "apei_claim_sea", {"cpu": pe.index, "rc": rc})
        return rc

    def arm64_notify_die(self, pe, exc, name: str, sig: int, code: int):
        k = self.kernel
        if exc.from_el == 0:
            task = k.current_task(k.cpu_id(pe))
            far = 0 if exc.esr & ESR_ELx_FnV else (exc.far or 0)
            if task is not None:
                force_sig_info(k, task, SigInfo(sig, code, far))
            yield from self.ret_to_user(pe)
            return
        yield from self.die(pe, name, exc.esr)

    def die(self, pe, name: str, err: int):
        """die() (arch/arm64/kernel/traps.c): the oops, then a panic if kernel.panic_on_oops
        is set; else the task that was running dies of SIGSEGV (make_task_dead) and the
        kernel goes on, tainted."""
        k = self.kernel
        k.printk(f"Internal error: {name}: {err:016x} [#1] SMP")
        if k.sysctl.get("kernel.panic_on_oops", 1):
            k.panic("Fatal exception")
            yield 0
            return
        task = k.current_task(k.cpu_id(pe))
        k.trace("oops", cpu=pe.index, pid=task.pid if task is not None else None, taint="D")
        if task is not None:
            task.exit_signal = SIGSEGV
            k.do_group_exit(task)
        pe.end_program("oops")
        yield 0

    # --- interrupts ---------------------------------------------------------------------------
    def el_interrupt(self, pe, exc) -> None:
        """gic_handle_irq: acknowledge, run the handler bound to the INTID (GHES GSIV/GPIO
        sources: ghes_irq_func → ghes_proc), return."""
        k = self.kernel
        self.handle_irq(pe)
        if exc.from_el == 0:
            self.exit_to_user_mode(pe)
        elif not k.machine.halted:
            pe.eret()

    def handle_irq(self, pe) -> bool:
        """gic_handle_irq's body: acknowledge, then the handler bound to the INTID. KVM
        calls it too, for an interrupt that made a guest exit (the host's IRQ, taken once
        KVM re-enables interrupts)."""
        k = self.kernel
        k.this_cpu = k.cpu_id(pe)
        intid = pe.acknowledge_interrupt(fiq=False)
        handled = k.ghes.ghes_irq(intid) if k.ghes is not None else False
        k.trace("irq_handler", cpu=pe.index, intid=intid, handled=handled)
        return handled

    # --- SDEI ----------------------------------------------------------------------------------
    def on_sdei_event(self, pe, event: int, arg: int, elr: int, spsr: int) -> None:
        """The SDEI entry (__sdei_asm_handler -> sdei_event_handler): the registered
        callback, then SDEI_EVENT_COMPLETE by SMC; the queued irq_work runs after."""
        k = self.kernel
        k.this_cpu = k.cpu_id(pe)
        queued = k.ghes.ghes_sdei_callback(event) if k.ghes is not None else False
        if queued:
            k.engine.process(k.ghes.ghes_proc_in_irq(k.cpu_id(pe)), name=self._irq_work_name)
        pe.smc(SDEI_EVENT_COMPLETE)

    # --- SError ----------------------------------------------------------------------------
    def do_serror(self, pe, exc) -> None:
        k = self.kernel
        esr = exc.esr or 0
        k.trace("do_serror", cpu=pe.index, esr=esr, from_el=exc.from_el)
        if ak.arm64_is_fatal_ras_serror(esr):
            self.arm64_serror_panic(pe, esr)
        elif exc.from_el == 0:
            self.exit_to_user_mode(pe)
        else:
            pe.eret()

    def arm64_serror_panic(self, pe, esr: int) -> None:
        k = self.kernel
        k.printk(f"SError Interrupt on CPU{pe.index}, code 0x{esr:016x} -- {ak.esr_get_class_string(esr)}")
        k.panic("Asynchronous SError Interrupt")

    # --- return to user ---------------------------------------------------------------------
    def ret_to_user(self, pe):
        """The return to user after deferred work: its own scheduled event."""
        yield 0
        self.exit_to_user_mode(pe)

    def exit_to_user_mode(self, pe) -> None:
        """exit_to_user_mode: task_work (TWA_RESUME), then signals; ERET if the task lives."""
        k = self.kernel
        k.this_cpu = cpu = k.cpu_id(pe)
        task = k.current_task(cpu)
        if task is not None:
            if task.task_works:
                works, task.task_works = task.task_works, []
                for work in works:
                    work()
            if not get_signal(k, task):
                k.do_group_exit(task)
                pe.end_program("killed" if task.exit_signal else "exited")
                k.schedule(pe)
                return
        if not k.machine.halted:
            pe.eret()
