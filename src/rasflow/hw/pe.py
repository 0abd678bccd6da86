"""The processing element: exception levels, PSTATE, system registers, exception entry and
return, and the routing rules (AArch64 only; EL0-EL3, EL2 implemented).

Software runs at an EL as a Python *handler* installed with :meth:`PE.install`: the PE
calls ``handler.on_exception(pe, entry)`` when an exception is taken to that EL, and the
handler ends by calling :meth:`PE.eret` (or does not, and the PE stays in the handler's
EL). Handlers run in zero simulated time and nest like the exceptions they model: an
exception taken inside a handler (an SError taken at an ``ESB``, say) calls the next
handler before the first one continues.

Asynchronous exceptions, ESB and virtual SError live in :mod:`.serror`; instructions and
programs in :mod:`.program`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..engine import Component
from ..formats.arm.esr import decode_esr
from ..formats.arm.kernel import (
    ESR_ELx_EC_DABT_CUR,
    ESR_ELx_EC_DABT_LOW,
    ESR_ELx_EC_IABT_CUR,
    ESR_ELx_EC_IABT_LOW,
    ESR_ELx_EC_MASK,
    ESR_ELx_EC_SHIFT,
    ESR_ELx_EC_WATCHPT_CUR,
    ESR_ELx_EC_WATCHPT_LOW,
    esr_get_class_string,
)
from ..formats.arm.sysreg import MIDR_EL1, MPIDR_EL1
from ..formats.arm.sysreg_fault import ERRIDR_EL1, ERRSELR_EL1, HPFAR_EL2
from . import arch
from .arch import (
    HCR_AMO,
    SCR_EA,
    SCR_EASE,
    SCTLR_IESB,
    SPSR_TABLE,
)
from .program import ProgramMixin
from .serror import SErrorMixin

if TYPE_CHECKING:
    from .machine import Machine


class ExceptionEntry(NamedTuple):
    """An exception as the handler sees it: the values written into the target EL's
    registers (``esr``/``far`` are None when the exception does not write them)."""

    target_el: int
    kind: str  # "sync" | "irq" | "fiq" | "serror"
    from_el: int
    vector_offset: int
    vector_address: int
    esr: int | None
    far: int | None
    elr: int
    spsr: int


_new_entry = tuple.__new__  # ExceptionEntry(...) without its Python-level __new__: entry is hot


def _entry_fields(el: int, kind: str, from_el: int, offset: int, elr: int, spsr: int,
                  esr: int | None, far: int | None) -> dict:
    """The fields of an ``exception_entry`` trace event (ESR decoded once per value)."""
    fields = {"el": el, "exception": kind, "from_el": from_el, "vector": offset, "elr": elr,
              "spsr": spsr}
    if esr is not None:
        fields["esr"] = esr
        fields["esr_decoded"] = esr_fields(esr)
    if far is not None:
        fields["far"] = far
    return fields


class Handler(Protocol):
    def on_exception(self, pe: PE, exc: ExceptionEntry) -> Any: ...


def _per_el(prefix: str) -> tuple[str | None, ...]:
    return (None, f"{prefix}_EL1", f"{prefix}_EL2", f"{prefix}_EL3")


ESR, ELR, SPSR, FAR, VBAR, SCTLR = (_per_el(p) for p in
                                   ("ESR", "ELR", "SPSR", "FAR", "VBAR", "SCTLR"))
REGISTERS = (
    *ESR[1:], *ELR[1:], *SPSR[1:], *FAR[1:], *VBAR[1:], *SCTLR[1:],
    "HCR_EL2", "SCR_EL3", "VSESR_EL2", "DISR_EL1", "VDISR_EL2", "HPFAR_EL2",
    "MIDR_EL1", "MPIDR_EL1", "ERRSELR_EL1",
    # the rest of the AArch64 EL1 context (CPER ARM context type 5)
    "MAIR_EL1", "SP_EL0", "SP_EL1", "TCR_EL1", "TPIDR_EL0", "TPIDR_EL1", "TPIDRRO_EL0",
    "TTBR0_EL1", "TTBR1_EL1",
)
"""Architectural registers held in ``pe.regs`` (ISR_EL1 is derived, not stored)."""
_REGS_AT_ZERO = dict.fromkeys(REGISTERS, 0)

DAIF_ALL = arch.DAIF_ALL
_DAIF = {"D": arch.SPSR_D, "A": arch.SPSR_A, "I": arch.SPSR_I, "F": arch.SPSR_F}
NEOVERSE_N1_MIDR = MIDR_EL1.encode(Implementer=0x41, Variant=4, Architecture=0xF,
                                   PartNum=0xD0C, Revision=1)
_ERX = {"ERXFR_EL1": "FR", "ERXCTLR_EL1": "CTLR", "ERXSTATUS_EL1": "STATUS",
        "ERXADDR_EL1": "ADDR", "ERXMISC0_EL1": "MISC0", "ERXMISC1_EL1": "MISC1"}
_VECTOR_KIND = {v: k for k, v in arch.VECTOR_OFFSET.items()}
_VECTOR = {(lower, sp, kind): arch.vector_offset(1 if lower else 0, 0, sp, kind)
           for lower in (False, True) for sp in (0, 1) for kind in arch.VECTOR_OFFSET}
_SPSR_MODES = {}
for (_el, _sp), _m in SPSR_TABLE.items():
    for _daif in range(16):
        _bits = sum(b for k, b in enumerate((arch.SPSR_F, arch.SPSR_I, arch.SPSR_A,
                                             arch.SPSR_D)) if _daif >> k & 1)
        _SPSR_MODES[_m | _bits] = arch.spsr_decode(_m | _bits)
_SPSR_IL = arch.SPSR_IL
_EC_MASK, _EC_SHIFT = ESR_ELx_EC_MASK, ESR_ELx_EC_SHIFT  # ESR_ELx_EC(esr), inlined
_HCR_ASYNC = arch.HCR_ASYNC
_SCR_NS_EEL2 = arch.SCR_NS | arch.SCR_EEL2  # EL2 is enabled (arch.el2_enabled)
_GROUP_LOWER64 = arch.GROUP_LOWER64
_spsr_decode = arch.spsr_decode
_HPFAR_NS = HPFAR_EL2.encode(NS=1)
_FIPA = HPFAR_EL2.by_name["FIPA"]
_SEL = ERRSELR_EL1.by_name["SEL"]
_KEY_FIELDS = frozenset({"DFSC", "IFSC", "SET", "AET", "IDS", "ISV", "WnR", "FnV", "EA", "IESB",
                         "imm16", "ISS"})
_ABORT_ECS = frozenset({ESR_ELx_EC_IABT_LOW, ESR_ELx_EC_IABT_CUR, ESR_ELx_EC_DABT_LOW,
                        ESR_ELx_EC_DABT_CUR, ESR_ELx_EC_WATCHPT_LOW, ESR_ELx_EC_WATCHPT_CUR})


@lru_cache(maxsize=4096)
def esr_fields(esr: int) -> dict:
    """Decoded ESR for the trace: class name and the named ISS fields (memoised by value)."""
    f = decode_esr(esr).fields
    return {"ec": esr_get_class_string(esr), **{
        k: v for k, v in f.items()
        if (v or k in _KEY_FIELDS) and not k.startswith("RES") and k not in ("EC", "IL")}}


@lru_cache(maxsize=1024)
def _mpidr(index: int) -> int:
    """MPIDR_EL1 of PE ``index`` (Aff0, Aff1; bit 31 RES1)."""
    return MPIDR_EL1.encode(RES1_31=1, Aff0=index % 256, Aff1=index // 256)


class PState:
    """PSTATE: ``el``, ``sp`` (0 = SP_EL0, 1 = SP_ELx), ``daif`` (in SPSR bit positions,
    with ``d a i f`` as 0/1 views) and ``il`` (illegal execution state)."""

    __slots__ = ("el", "sp", "daif", "il")

    def __init__(self, el: int = 3, sp: int = 1, daif: int = DAIF_ALL, il: bool = False):
        self.el, self.sp, self.daif, self.il = el, sp, daif, il

    def _bit(bit):  # noqa: N805 - property factory
        def get(self) -> int:
            return 1 if self.daif & bit else 0

        def set_(self, value: int) -> None:  # no exception is taken: use pe.daifclr()
            self.daif = self.daif | bit if value else self.daif & ~bit

        return property(get, set_)

    d, a, i, f = _bit(arch.SPSR_D), _bit(arch.SPSR_A), _bit(arch.SPSR_I), _bit(arch.SPSR_F)
    del _bit

    @property
    def mode(self) -> str:
        return f"EL{self.el}{'h' if self.sp else 't'}"

    def __repr__(self) -> str:
        flags = "".join(k if self.daif & v else k.lower() for k, v in _DAIF.items())
        return f"PState({self.mode}, {flags}{', IL' if self.il else ''})"


class PE(SErrorMixin, ProgramMixin, Component):
    """One AArch64 PE, a Component named ``cpu<index>``."""

    def __init__(self, machine: Machine, index: int, *, el2: bool = True,
                 midr: int = NEOVERSE_N1_MIDR):
        super().__init__(machine.engine, f"cpu{index}")
        self.machine, self.index, self.el2 = machine, index, el2
        self.regs: dict[str, int] = _REGS_AT_ZERO.copy()  # dict.fromkeys(REGISTERS, 0)
        self.regs["MIDR_EL1"] = midr
        self.regs["MPIDR_EL1"] = _mpidr(index)
        self.pstate = PState()  # reset: EL3h, DAIF masked
        self.pc = 0
        self.handlers: dict[int, Handler | None] = {1: None, 2: None, 3: None}
        self.entry_points: dict[int, dict[int, Callable[[PE], Any]]] = {1: {}, 2: {}, 3: {}}
        self.node = None  # this PE's own error node (ERRSELR_EL1/ERX*_EL1)
        self._program_name = f"{self.name}:program"  # the engine Process of run()
        self._init_async()

    def __repr__(self) -> str:
        return f"PE({self.name}, {self.pstate!r}, pc={self.pc:#x})"

    def install(self, el: int, handler: Handler) -> None:
        """Run ``handler.on_exception(pe, entry)`` for every exception taken to ``el``."""
        if el not in (1, 2, 3):
            raise ValueError(f"handlers run at EL1-EL3, not EL{el}")
        self.handlers[el] = handler

    def install_entry(self, el: int, address: int, fn: Callable[[PE], Any]) -> None:
        """Software at ``address`` of ``el`` that is not a vector (a guest's delegated error
        recovery agent): an ERET that lands there runs ``fn(pe)``, as one that lands on a
        vector runs the EL's handler."""
        self.entry_points[el][address] = fn

    # --- system registers --------------------------------------------------------------
    def read_sysreg(self, name: str) -> int:
        """MRS at the current EL, with the architecture's redirections (DISR_EL1 ->
        VDISR_EL2 or RAZ; ISR_EL1 derived; ERX*_EL1 through ERRSELR_EL1)."""
        if name == "DISR_EL1":
            target = self._disr_target()
            return 0 if target is None else self.regs[target]
        if name == "ISR_EL1":
            return self.isr_el1
        if name == "ERRIDR_EL1":
            return ERRIDR_EL1.encode(NUM=self.node.num_records if self.node else 0)
        if name in _ERX:
            n = self._errsel()
            return 0 if n is None else self.node.read(n, _ERX[name])
        return self.regs[name]

    def write_sysreg(self, name: str, value: int) -> None:
        """MSR at the current EL, with the same redirections as :meth:`read_sysreg`.
        Writes to SCR_EL3/HCR_EL2 take effect at once: an SError they unmask is taken."""
        if name == "DISR_EL1":
            target = self._disr_target()
            if target is not None:
                self.regs[target] = value
            return
        if name in _ERX:
            n = self._errsel()
            if n is not None:
                self.node.write(n, _ERX[name], value)
            return
        if name not in self.regs:
            raise KeyError(f"{name} is not a writable register of this model")
        regs = self.regs
        regs[name] = value
        if name in ("SCR_EL3", "HCR_EL2") and (  # and something is pending (async_pending())
                self._serror is not None or self._irqs or regs["HCR_EL2"] & _HCR_ASYNC):
            self._check_async()

    def _disr_target(self) -> str | None:
        """Which register an access to DISR_EL1 reaches (Arm ARM D24.9.1): at EL1 with
        EL2 enabled and HCR_EL2.AMO=1, VDISR_EL2; else at EL1/EL2 with SCR_EL3.EA=1,
        nothing (RAZ/WI); else DISR_EL1."""
        el, scr = self.pstate.el, self.regs["SCR_EL3"]
        if el == 1 and arch.el2_enabled(scr, self.el2) and self.regs["HCR_EL2"] & HCR_AMO:
            return "VDISR_EL2"
        if el in (1, 2) and scr & SCR_EA:
            return None
        return "DISR_EL1"

    def _errsel(self) -> int | None:
        if self.node is None:
            return None
        n = _SEL.get(self.regs["ERRSELR_EL1"])
        return n if n < self.node.num_records else None  # SEL >= NUM: RAZ/WI

    @property
    def isr_el1(self) -> int:
        """ISR_EL1: A = an SError pending (the virtual one, at EL1 with AMO=1 and TGE=0),
        I/F = an IRQ/FIQ pending."""
        if self.pstate.el < 2 and arch.virtual_serror_enabled(
                self.regs["SCR_EL3"], self.regs["HCR_EL2"], el2=self.el2):
            a = bool(self.regs["HCR_EL2"] & arch.HCR_VSE)
        else:
            a = self._serror is not None
        irq = any(not fiq for _, fiq in self._irqs)
        fiq = any(fiq for _, fiq in self._irqs)
        return (arch.ISR_A if a else 0) | (arch.ISR_I if irq else 0) | (arch.ISR_F if fiq else 0)

    # --- routing (the rules live in arch.py as pure functions) ---------------------------
    def sea_target_el(self, from_el: int) -> int:
        """Synchronous External abort routing: SCR_EL3.EA=1 -> EL3; HCR_EL2.TEA (from
        EL0/EL1, EL2 enabled) or TGE (from EL0) -> EL2; else max(from_el, 1)."""
        return arch.sea_target_el(self.regs["SCR_EL3"], self.regs["HCR_EL2"], from_el,
                                  el2=self.el2)

    def serror_target_el(self, from_el: int) -> int:
        """Physical SError routing: SCR_EL3.EA=1 -> EL3; HCR_EL2.AMO/TGE -> EL2; else EL1."""
        return arch.serror_target_el(self.regs["SCR_EL3"], self.regs["HCR_EL2"], from_el,
                                     el2=self.el2)

    def physical_serror_masked(self) -> bool:
        """Arm ARM Table D1-23 at the current EL and PSTATE.A (see arch.py)."""
        return arch.physical_serror_masked(self.regs["SCR_EL3"], self.regs["HCR_EL2"],
                                           self.pstate.el, bool(self.pstate.daif & arch.SPSR_A),
                                           el2=self.el2)

    def el2_enabled(self) -> bool:
        return arch.el2_enabled(self.regs["SCR_EL3"], self.el2)

    # --- exception entry and return -------------------------------------------------
    def take_exception(self, target_el: int, kind: str, esr: int | None,
                       far: int | None = None, *, return_address: int,
                       ipa: int | None = None, external_abort: bool = False,
                       **trace_fields: Any) -> ExceptionEntry:
        """AArch64.TakeException: write ESR/ELR/SPSR/FAR (and HPFAR_EL2 from ``ipa``) of
        the target EL, mask DAIF, select ELxh, jump to VBAR_ELx + offset, trace one
        ``exception_entry``, apply IESB, and call the target EL's handler.

        ``external_abort``: a synchronous External abort (SCR_EL3.EASE=1 sends those taken
        to EL3 to the SError vector offset)."""
        ps, regs = self.pstate, self.regs
        from_el, sp = ps.el, ps.sp
        if target_el < from_el or target_el not in (1, 2, 3):
            raise ValueError(f"cannot take an exception from EL{from_el} to EL{target_el}")
        vkind = "serror" if (external_abort and target_el == 3
                             and regs["SCR_EL3"] & SCR_EASE) else kind
        offset = _VECTOR[target_el > from_el, sp, vkind]
        vector = regs[VBAR[target_el]] + offset
        spsr = SPSR_TABLE[from_el, sp] | ps.daif | (_SPSR_IL if ps.il else 0)
        regs[SPSR[target_el]] = spsr
        regs[ELR[target_el]] = return_address
        if esr is not None:
            regs[ESR[target_el]] = esr
        if far is not None:
            regs[FAR[target_el]] = far
        if ipa is not None and target_el == 2:
            regs["HPFAR_EL2"] = _HPFAR_NS | ((ipa >> 12) & _FIPA.max) << _FIPA.lsb
        ps.el, ps.sp, ps.daif, ps.il = target_el, 1, DAIF_ALL, False
        self.pc = vector
        entry = _new_entry(ExceptionEntry, (target_el, kind, from_el, offset, vector, esr, far,
                                            return_address, spsr))
        fields = _entry_fields(target_el, kind, from_el, offset, return_address, spsr, esr, far)
        if trace_fields:
            fields.update(trace_fields)
        engine = self.engine
        engine.trace.emit(engine.now, self.name, "exception_entry", fields)
        if regs[SCTLR[target_el]] & SCTLR_IESB and self._implicit_esb(vector):
            return entry  # the SError's handler returned to the vector (or did not)
        # execute the vector: the handler's code runs from vector + 4 (so that an ERET back
        # into the handler is not mistaken for a fresh entry at the vector)
        handler = self.handlers[target_el]
        self.pc = vector + 4
        if handler is not None and not self.machine.halted:
            handler.on_exception(self, entry)
        return entry

    def eret(self, elr: int | None = None, spsr: int | None = None) -> None:
        """ERET: restore PSTATE from SPSR_ELx and resume at ELR_ELx. With SCTLR_ELx.IESB the
        ERET is an error synchronization event first. A return to a state the SPSR cannot
        name (a higher EL, EL2 disabled, AArch32) is an illegal return: PSTATE.IL=1, EL
        unchanged. Pending unmasked asynchronous exceptions are then taken; a return to a
        vector address of the new EL runs that EL's handler (how firmware fakes an entry).

        ``elr``/``spsr``, if given, are written to ELR_ELx/SPSR_ELx first: what a handler
        does when it restores the values it saved at entry (a nested exception taken to
        the same EL overwrote them), as kernel_exit restores them from pt_regs."""
        ps, regs = self.pstate, self.regs
        el = ps.el
        if el == 0:
            raise RuntimeError("ERET at EL0 is UNDEFINED; a handler called eret() twice?")
        if elr is not None:
            regs[ELR[el]] = elr
        if spsr is not None:
            regs[SPSR[el]] = spsr
        if regs[SCTLR[el]] & SCTLR_IESB:
            self._implicit_esb(self.pc)
        spsr, elr = regs[SPSR[el]], regs[ELR[el]]
        mode = _SPSR_MODES.get(spsr) or _spsr_decode(spsr)
        legal = mode is not None and mode[0] <= el and (  # EL2 only when el2_enabled(), inlined
            mode[0] != 2 or (self.el2 and regs["SCR_EL3"] & _SCR_NS_EEL2))
        if legal:
            ps.el, ps.sp, ps.daif, ps.il = mode
            to_el = mode[0]
            fields = {"from_el": el, "el": to_el, "elr": elr, "spsr": spsr}
        else:
            ps.daif, ps.il = spsr & DAIF_ALL, True
            to_el = el
            fields = {"from_el": el, "el": el, "elr": elr, "spsr": spsr, "illegal": True}
        self.pc = elr
        engine = self.engine
        engine.trace.emit(engine.now, self.name, "eret", fields)
        if self._resume is not None:
            self._resume_check()
        if self._serror is not None or self._irqs or regs["HCR_EL2"] & _HCR_ASYNC:
            self._check_async()
        if legal and to_el >= 1 and ps.el == to_el and self.pc == elr:
            self._enter_vector(to_el, elr)

    def _enter_vector(self, el: int, pc: int) -> None:
        """An ERET that lands on a vector of ``el`` runs that EL's handler with the entry
        its registers describe (TF-A's inject_sync_ea64 ends this way)."""
        regs = self.regs
        offset = pc - regs[VBAR[el]]
        if not 0 <= offset < 0x800 or offset % 0x80:
            fn = self.entry_points[el].get(pc)
            if fn is not None and not self.machine.halted:
                self.pc = pc + 4
                fn(self)
            return
        kind = _VECTOR_KIND[offset % 0x200]
        spsr = regs[SPSR[el]]
        if offset >= _GROUP_LOWER64:
            mode = _SPSR_MODES.get(spsr) or _spsr_decode(spsr)
            from_el = mode[0] if mode else el - 1
        else:
            from_el = el
        elr = regs[ELR[el]]
        esr = regs[ESR[el]] if kind == "sync" or kind == "serror" else None
        far = regs[FAR[el]] if kind == "sync" and (esr & _EC_MASK) >> _EC_SHIFT in _ABORT_ECS else None
        fields = _entry_fields(el, kind, from_el, offset, elr, spsr, esr, far)
        fields["via"] = "eret"
        engine = self.engine
        engine.trace.emit(engine.now, self.name, "exception_entry", fields)
        handler = self.handlers[el]
        self.pc = pc + 4  # the handler's code runs from vector + 4, as in take_exception
        if handler is not None and not self.machine.halted:
            handler.on_exception(self, _new_entry(ExceptionEntry, (el, kind, from_el, offset, pc,
                                                                   esr, far, elr, spsr)))

    # --- PSTATE.DAIF ---------------------------------------------------------------
    def daifset(self, flags: str) -> None:
        """MSR DAIFSet: mask the named exceptions (e.g. ``"A"`` or ``"DAIF"``)."""
        for c in flags.upper():
            self.pstate.daif |= _DAIF[c]

    def daifclr(self, flags: str) -> None:
        """MSR DAIFClr: unmask the named exceptions; a pending one now unmasked is taken."""
        for c in flags.upper():
            self.pstate.daif &= ~_DAIF[c]
        self._check_async()
