"""Instructions and tiny programs on a PE. Mixed into :class:`~.pe.PE`.

A program is a list of instructions::

    ("load", va)  ("store", va, value)  ("svc", imm)  ("hvc", imm)  ("smc", imm)
    ("esb",)  ("sleep", ns)  ("loop", n, [body...])

Each takes ``ns_per_insn`` of simulated time (``sleep`` takes ``ns`` and wakes early for
an interrupt or SError, like WFI); ``loop`` is control flow and takes none. The program
occupies addresses ``entry + 4*i`` (loops compiled in place), so ELR values are real
instruction addresses. Pending asynchronous exceptions are taken at every instruction
boundary. The program ends when it runs off its end, when software does not return to
it (the PE is left at another EL or PC), or when the machine halts.

``mmu(va)`` is software's translation: it returns a PA, ``(pa, ipa)`` when stage 2 is on
(the IPA goes to HPFAR_EL2 for an abort taken to EL2), or None for a translation fault.

Memory rules (the machine decides what a poisoned or broken access records):

- a load from normal RAM that touches a poisoned granule takes a synchronous External
  abort (EC 0x24/0x25, DFSC 0x10, SET from the error, FnV=0, FAR=VA, WnR=0) routed by
  ``sea_target_el``, after the memory controller records the error;
- a store to a poisoned granule completes; the line's later write-back raises an SError;
- an access to device memory with an armed device error raises a (delayed) SError;
- an access to an unbacked PA is a synchronous External abort.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from ..formats.arm.esr import encode_esr
from ..formats.arm.kernel import (
    ESR_ELx_EC_DABT_CUR,
    ESR_ELx_EC_DABT_LOW,
    ESR_ELx_EC_HVC64,
    ESR_ELx_EC_SMC64,
    ESR_ELx_EC_SVC64,
    ESR_ELx_EC_UNKNOWN,
    ESR_ELx_FSC_FAULT_L,
)
from . import arch
from .arch import HCR_TSC, SCR_HCE, SCR_SMD, sea_esr

Mmu = Callable[[int], "int | tuple[int, int | None] | None"]
LOAD, STORE, SVC, HVC, SMC, ESB, SLEEP, LOOP, ENDLOOP = range(9)
_OPS = {"load": (LOAD, 1), "store": (STORE, 2), "svc": (SVC, 1), "hvc": (HVC, 1),
        "smc": (SMC, 1), "esb": (ESB, 0), "sleep": (SLEEP, 1)}
_CALL_ESR: dict[tuple[int, int], int] = {}
_DAIF_BITS = {"D": arch.SPSR_D, "A": arch.SPSR_A, "I": arch.SPSR_I, "F": arch.SPSR_F}
_HCR_ASYNC = arch.HCR_ASYNC
ESR_UNDEFINED = encode_esr(EC=ESR_ELx_EC_UNKNOWN, IL=1)


def compile_program(program: Sequence[tuple]) -> list[tuple]:
    """Flatten a program into instructions; ``loop`` becomes LOOP ... ENDLOOP."""
    out: list[tuple] = []
    _emit(program, out)
    return out


@lru_cache(maxsize=256)
def _compiled(program: tuple) -> tuple[tuple, ...]:
    """compile_program of a hashable program (a tuple of tuples), memoised: software
    starts the same few programs again and again."""
    return tuple(compile_program(program))


@lru_cache(maxsize=64)
def _daif_mask(daif: str) -> int:
    """The PSTATE.DAIF bits named in ``daif`` (e.g. ``"AIF"``), memoised."""
    mask = 0
    for c in daif.upper():
        mask |= _DAIF_BITS[c]
    return mask


def _emit(items: Sequence[tuple], out: list[tuple]) -> None:
    """compile_program's body: append ``items`` to ``out`` (loops recurse)."""
    for insn in items:
        if not isinstance(insn, tuple) or not insn:
            raise ValueError(f"instruction {insn!r} is not a tuple")
        name, args = insn[0], insn[1:]
        if name == "loop":
            if len(args) != 2 or not isinstance(args[0], int) or args[0] < 0:
                raise ValueError(f"loop takes (n >= 0, body): {insn!r}")
            start = len(out)
            out.append((LOOP, args[0], 0))
            _emit(args[1], out)
            out.append((ENDLOOP, start))
            out[start] = (LOOP, args[0], len(out))
            continue
        op = _OPS.get(name)
        if op is None:
            raise ValueError(f"unknown instruction {name!r}; one of {', '.join(_OPS)}, loop")
        if len(args) != op[1] or not all(isinstance(a, int) for a in args):
            raise ValueError(f"{name} takes {op[1]} integer operand(s): {insn!r}")
        out.append((op[0], *args))


def _call_esr(ec: int, imm: int) -> int:
    v = _CALL_ESR.get((ec, imm))
    if v is None:
        v = _CALL_ESR[ec, imm] = encode_esr(EC=ec, IL=1, imm16=imm)
    return v


@lru_cache(maxsize=4096)
def _sea_route(scr: int, hcr: int, from_el: int, el2: bool, set_: str, wnr: int,
               ea: int) -> tuple[int, int]:
    """(target EL, ESR) of a synchronous External abort on a data access: pure, memoised."""
    target = arch.sea_target_el(scr, hcr, from_el, el2=el2)
    return target, sea_esr(same_el=target == from_el, set_=set_, wnr=wnr, ea=ea)


def _translate(mmu: Mmu | None, va: int) -> tuple[int | None, int | None]:
    if mmu is None:
        return va, None
    t = mmu(va)
    if type(t) is tuple:
        return t[0], t[1]
    return t, None


class ProgramMixin:
    """load/store/svc/hvc/smc/esb as PE methods, and :meth:`run` for a program."""

    # --- instructions ---------------------------------------------------------------
    def load(self, va: int, mmu: Mmu | None = None) -> int | None:
        """LDR (64-bit) at the current PC: the value, or None if it took an abort."""
        pa, ipa = _translate(mmu, va)
        if pa is None:
            self._translation_fault(va, ipa, wnr=0)
            return None
        machine = self.machine
        if machine._armed_sea and self.index in machine._armed_sea:
            self._sync_external_abort(va, ipa, machine._armed_sea.pop(self.index), wnr=0)
            return None
        mem = machine.memory
        region = mem.region(pa)
        if region is None:
            self._sync_external_abort(va, ipa, "UER", wnr=0)
            return None
        if region.kind == "device":
            machine.device_access(self, pa, write=False)
            self.pc += 4
            return mem.read_u64(pa)
        granule = mem.poisoned_granule(pa, 8)
        if granule is not None:
            set_ = machine.consume_poison(self, granule)
            self._sync_external_abort(va, ipa, set_, wnr=0)
            return None
        self.pc += 4
        return mem.read_u64(pa)

    def store(self, va: int, value: int, mmu: Mmu | None = None) -> bool:
        """STR (64-bit) at the current PC; False if it took an abort."""
        pa, ipa = _translate(mmu, va)
        if pa is None:
            self._translation_fault(va, ipa, wnr=1)
            return False
        machine = self.machine
        region = machine.memory.region(pa)
        if region is None:
            self._sync_external_abort(va, ipa, "UER", wnr=1)
            return False
        if region.kind == "device":
            machine.device_access(self, pa, write=True)
        else:
            granule = machine.memory.poisoned_granule(pa, 8)
            if granule is not None:
                machine.poison_writeback(self, granule)
        machine.memory.write_u64(pa, value)
        self.pc += 4
        return True

    def svc(self, imm: int = 0) -> None:
        """SVC: to EL1 from EL0 (EL2 with HCR_EL2.TGE), else the current EL; ELR = next."""
        target = arch.sync_target_el(self.regs["SCR_EL3"], self.regs["HCR_EL2"],
                                     self.pstate.el, el2=self.el2)
        self.take_exception(target, "sync", _call_esr(ESR_ELx_EC_SVC64, imm),
                            return_address=self.pc + 4)

    def hvc(self, imm: int = 0) -> None:
        """HVC: to EL2 from EL1/EL2 (EL3 stays at EL3); UNDEFINED at EL0, with
        SCR_EL3.HCE=0, or with EL2 disabled."""
        el = self.pstate.el
        if el == 0 or not self.regs["SCR_EL3"] & SCR_HCE or (el < 3 and not self.el2_enabled()):
            self._undefined()
            return
        self.take_exception(max(el, 2), "sync", _call_esr(ESR_ELx_EC_HVC64, imm),
                            return_address=self.pc + 4)

    def smc(self, imm: int = 0) -> None:
        """SMC: to EL3; trapped to EL2 from EL1 by HCR_EL2.TSC (ELR = the SMC); UNDEFINED
        at EL0 or with SCR_EL3.SMD=1."""
        el = self.pstate.el
        if el == 1 and self.el2_enabled() and self.regs["HCR_EL2"] & HCR_TSC:
            self.take_exception(2, "sync", _call_esr(ESR_ELx_EC_SMC64, imm),
                                return_address=self.pc)
            return
        if el == 0 or self.regs["SCR_EL3"] & SCR_SMD:
            self._undefined()
            return
        self.take_exception(3, "sync", _call_esr(ESR_ELx_EC_SMC64, imm),
                            return_address=self.pc + 4)

    def _undefined(self) -> None:
        target = arch.sync_target_el(self.regs["SCR_EL3"], self.regs["HCR_EL2"],
                                     self.pstate.el, el2=self.el2)
        self.take_exception(target, "sync", ESR_UNDEFINED, return_address=self.pc)

    def _sync_external_abort(self, va: int, ipa: int | None, set_: str, *, wnr: int) -> None:
        """A synchronous External abort on this data access, routed by sea_target_el."""
        from_el = self.pstate.el
        regs = self.regs
        target, esr = _sea_route(regs["SCR_EL3"], regs["HCR_EL2"], from_el, self.el2, set_, wnr,
                                 self.machine.sea_ea)
        self.take_exception(target, "sync", esr, va, return_address=self.pc,
                            ipa=ipa if target == 2 else None, external_abort=True)

    def _translation_fault(self, va: int, ipa: int | None, *, wnr: int) -> None:
        """A translation fault, level 3. At stage 1 (the mmu found no page: ``ipa`` None) it
        is routed like any synchronous exception. At stage 2 (stage 1 gave ``ipa``, the
        hypervisor's tables do not map it) it goes to EL2 whatever the guest's EL, with the
        IPA in HPFAR_EL2 (Arm ARM, "Stage 2 translation faults"; EC 0x24, lower EL). The
        model's loads carry no register syndrome: ISV=0."""
        from_el = self.pstate.el
        if ipa is not None and from_el < 2 and self.el2_enabled():
            target = 2
        else:
            target, ipa = arch.sync_target_el(self.regs["SCR_EL3"], self.regs["HCR_EL2"],
                                              from_el, el2=self.el2), None
        esr = encode_esr(EC=ESR_ELx_EC_DABT_CUR if target == from_el else ESR_ELx_EC_DABT_LOW,
                         IL=1, ISV=0, WnR=wnr, DFSC=ESR_ELx_FSC_FAULT_L(3))
        self.take_exception(target, "sync", esr, va, return_address=self.pc, ipa=ipa)

    def execute(self, insn: tuple, mmu: Mmu | None = None) -> Any:
        """Execute one instruction now (no simulated time passes): pending unmasked
        asynchronous exceptions first, as at an instruction boundary."""
        if self.async_pending():
            self._check_async()
        code = compile_program([insn])
        if len(code) != 1 or code[0][0] in (SLEEP, LOOP):
            raise ValueError("execute() takes one load/store/svc/hvc/smc/esb")
        return self._do(code[0], mmu)

    def _do(self, op: tuple, mmu: Mmu | None) -> Any:
        kind = op[0]
        if kind == LOAD:
            return self.load(op[1], mmu)
        if kind == STORE:
            return self.store(op[1], op[2], mmu)
        if kind == SVC:
            return self.svc(op[1])
        if kind == HVC:
            return self.hvc(op[1])
        if kind == SMC:
            return self.smc(op[1])
        pc, el = self.pc, self.pstate.el
        self.esb()
        if self.pc == pc and self.pstate.el == el:
            self.pc = pc + 4
        return None

    # --- programs -------------------------------------------------------------------
    def run(self, program: Sequence[tuple], mmu: Mmu | None = None, *, el: int = 0,
            entry: int = 0x40_0000, ns_per_insn: int = 1, daif: str = "",
            resume: bool = False):
        """Start ``program`` at ``entry`` in EL``el`` (SP_EL0 at EL0, SP_ELx above) with the
        PSTATE.DAIF bits named in ``daif`` set; returns the engine Process, whose value is
        why it ended: "done", "left", "halted" or (``resume``) what :meth:`end_program`
        said.

        ``resume``: when software leaves the program (an exception it does not return
        from at once), wait for an ERET back into it (the kernel's return to user after
        deferred work) instead of ending; software ends it with :meth:`end_program`."""
        try:
            code = _compiled(program)
        except TypeError:  # unhashable (a list, or a loop body given as a list)
            code = compile_program(program)
        return self.engine.process(self._run(code, mmu, el, entry, ns_per_insn, daif, resume),
                                   name=self._program_name)

    @property
    def busy(self) -> bool:
        """A program runs (or waits to be returned to) on this PE."""
        return self._runner is not None

    def end_program(self, reason: str = "exit") -> None:
        """Software will not return to the suspended program (its task exited)."""
        wait = self._resume
        if wait is not None:
            if not wait[3].triggered:
                wait[3].succeed(reason)
        elif self._runner is not None:
            self._ended = reason  # before the program noticed it was left

    def _resume_check(self) -> None:
        """After an ERET: wake a suspended program the PE has just returned into."""
        el, entry, end, ev = self._resume
        if self.pstate.el == el and entry <= self.pc < end and not ev.triggered:
            ev.succeed(None)

    def _run(self, code, mmu, el, entry, ns, daif, resume=False):
        if self._runner is not None:
            raise RuntimeError(f"{self.name} already runs a program")
        ps = self.pstate
        ps.el, ps.sp, ps.il = el, 0 if el == 0 else 1, False
        ps.daif = _daif_mask(daif)
        self.pc = entry
        end = entry + 4 * len(code)
        counters: dict[int, int] = {}
        self._runner = code
        self._ended = None
        machine, regs, engine = self.machine, self.regs, self.engine
        trace = engine.trace  # self.trace(...) without the keyword-argument call: this is hot
        trace.emit(engine.now, self.name, "program_start",
                   {"el": el, "entry": entry, "instructions": len(code)})
        reason = "done"
        try:
            while True:
                if machine.halted:
                    reason = "halted"
                    break
                if self._serror is not None or self._irqs or regs["HCR_EL2"] & _HCR_ASYNC:
                    self._check_async()  # async_pending(), inlined
                    if machine.halted:  # the exception's handler halted the platform
                        reason = "halted"
                        break
                pc = self.pc
                if ps.el != el or not entry <= pc < end:
                    reason = "done" if ps.el == el and pc == end else "left"
                    if reason == "done" or not resume:
                        break
                    if self._ended is not None:
                        reason = self._ended
                        break
                    self._resume = (el, entry, end, engine.event())
                    trace.emit(engine.now, self.name, "program_suspend", {"pc": pc, "el": ps.el})
                    why = yield self._resume[3]
                    self._resume = None
                    if why is not None:
                        reason = why
                        break
                    continue
                i = (pc - entry) >> 2
                op = code[i]
                kind = op[0]
                if kind == LOAD:
                    self.load(op[1], mmu)
                    yield ns
                    continue
                if kind == LOOP:
                    left = counters.get(i, op[1])
                    if left == 0:
                        counters.pop(i, None)
                        self.pc = entry + 4 * op[2]
                    else:
                        counters[i] = left
                        self.pc = pc + 4
                    continue
                if kind == ENDLOOP:
                    counters[op[1]] -= 1
                    self.pc = entry + 4 * op[1]
                    continue
                if kind == SLEEP:
                    self.pc = pc + 4
                    deadline = self.engine.now + op[1]
                    while True:
                        self._wake = wake = self.engine.event()
                        self.engine.schedule(deadline - self.engine.now, _wake_at, wake)
                        yield wake
                        self._wake = None
                        if not resume or self.engine.now >= deadline or machine.halted:
                            break
                        # nanosleep: take what woke us, then sleep on if we came back here
                        if self.async_pending():
                            self._check_async()
                        if ps.el != el or self.pc != pc + 4:
                            break
                    continue
                self._do(op, mmu)
                yield ns
        finally:
            self._runner = None
            self._wake = None
            self._resume = None
        trace.emit(engine.now, self.name, "program_end", {"reason": reason, "pc": self.pc, "el": ps.el})
        return reason


def _wake_at(wake) -> None:
    if not wake.triggered:
        wake.succeed()
