"""The PE's asynchronous exceptions: physical SError (pending, in flight, synchronized),
ESB and IESB, virtual SError, and physical IRQ/FIQ. Mixed into :class:`~.pe.PE`.

Arm ARM D20.5 (Error synchronization event) and the reference sheet section 2:

- An SError raised with a delay is *in flight*: it becomes pending when it arrives, or
  earlier at an error synchronization event (``ESB``, or exception entry/return with
  SCTLR_ELx.IESB) if it is synchronizable (SynchronizeErrors).
- ``ESB``: SynchronizeErrors; ESBOperation (a pending synchronizable physical SError that
  is masked is recorded in DISR_EL1 {A=1, syndrome} and cleared; a non-synchronizable
  one stays pending, R_SFHDS); vESBOperation at EL0/EL1 with EL2 enabled (a pending
  virtual SError masked by PSTATE.A goes to VDISR_EL2 from VSESR_EL2, clearing
  HCR_EL2.VSE); then TakeUnmaskedSErrorInterrupts, with the ESB as the preferred return
  address (R_KNWBN).
- IESB: an implicit error synchronization event at exception entry and ERET; it never
  writes DISR_EL1/VDISR_EL2 (I_WDSBL); an SError it makes unmasked is taken with
  ESR_ELx.IESB=1, returning to the original vector (entry) or to the ERET (return).
- A virtual SError is pending while HCR_EL2.VSE=1 (with TGE=0, AMO=1); it is taken only
  to EL1, from EL0/EL1 with PSTATE.A=0, with ESR_EL1 = EC 0x2F | VSESR_EL2[24:0], and
  taking it clears VSE.
- Interrupts are edge-like here: taking an IRQ/FIQ moves it from pending to active; the
  handler reads it with :meth:`acknowledge_interrupt`.
"""

from __future__ import annotations

from ..formats.arm.esr import ESR_ELx
from ..formats.arm.sysreg import DISR_EL1, VDISR_EL2
from .arch import (
    AET,
    ESR_IESB,
    ESR_SERROR,
    HCR_ASYNC,
    HCR_IMO,
    HCR_TGE,
    HCR_VI,
    HCR_VSE,
    ISS_MASK,
    SPSR_A,
    SPSR_F,
    SPSR_I,
    disr_from_syndrome,
    interrupt_masked,
    interrupt_target_el,
    serror_target_el,
    vdisr_from_vsesr,
    virtual_serror_enabled,
)

_IESB_LAYOUTS = frozenset(lay for lay in ESR_ELx.layouts if "IESB" in lay.by_name)
SPURIOUS_INTID = 1023


_AET_RANK = {AET["UC"]: 0, AET["UEU"]: 1, AET["UER"]: 2, AET["UEO"]: 3, AET["CE"]: 4}


def _severity(syndrome: int) -> int:
    """Order pending syndromes when two merge on the one SError line: lower is worse
    (UC, UEU, UER, UEO, CE; an IMPLEMENTATION DEFINED or Uncategorized syndrome as UC)."""
    return _AET_RANK.get(ESR_ELx.decode(ESR_SERROR | syndrome).fields.get("AET", 0), 0)


class SErrorMixin:
    """Pending/in-flight SErrors, ESB, IESB, virtual SError and interrupts of a PE."""

    def _init_async(self) -> None:
        self._serror: list | None = None  # [syndrome, synchronizable]
        self._inflight: list[list] = []  # [syndrome, synchronizable, alive]
        self._irqs: list[tuple[int, bool]] = []  # pending (intid, fiq)
        self.active_interrupts: list[tuple[int, bool]] = []
        self._runner = None  # set while a program runs on this PE
        self._wake = None  # an Event a sleeping program waits on
        self._resume = None  # (el, entry, end, Event) while a program waits to be returned to
        self._ended = None  # end_program() called while the program was still running
        self.virq = 0  # the INTID a virtual IRQ (HCR_EL2.VI) delivers

    # --- physical SError ------------------------------------------------------------
    @property
    def serror_pending(self) -> int | None:
        """The pending physical SError's 25-bit syndrome, or None."""
        return None if self._serror is None else self._serror[0]

    def raise_serror(self, syndrome: int, *, synchronizable: bool = True,
                     delay_ns: int = 0) -> None:
        """Signal a physical SError with ``syndrome`` (the 25-bit ISS: IDS/AET/EA/DFSC).
        With ``delay_ns`` it arrives later, unless an error synchronization event makes
        it pending first (if ``synchronizable``)."""
        if syndrome & ~ISS_MASK:
            raise ValueError(f"SError syndrome {syndrome:#x} is wider than ISS[24:0]")
        if delay_ns <= 0:
            self._make_pending(syndrome, synchronizable, "signalled")
            if self._runner is None:
                self._check_async()
            else:
                self._wake_up()  # a sleeping program takes it now, as it would an interrupt
            return
        item = [syndrome, synchronizable, True]
        self._inflight.append(item)
        self.engine.schedule(delay_ns, self._serror_arrives, item)

    def _serror_arrives(self, item: list) -> None:
        if not item[2]:
            return  # already synchronized by an ESB/IESB
        item[2] = False
        self._inflight.remove(item)
        self._make_pending(item[0], item[1], "arrived")
        if self._runner is None:
            self._check_async()  # an idle PE (between programs) takes it now if unmasked
        else:
            self._wake_up()

    def _make_pending(self, syndrome: int, synchronizable: bool, how: str) -> None:
        cur = self._serror
        if cur is None:
            self._serror = [syndrome, synchronizable]
        else:  # one SError line: keep the worse syndrome
            if _severity(syndrome) < _severity(cur[0]):
                cur[0] = syndrome
            cur[1] = cur[1] and synchronizable
        self.trace("serror_pending", syndrome=syndrome,
                   esr_decoded=_iss_fields(syndrome), synchronizable=synchronizable, how=how)

    def synchronize_errors(self) -> None:
        """SynchronizeErrors: every synchronizable SError in flight becomes pending now."""
        if not self._inflight:
            return
        keep = []
        for item in self._inflight:
            if item[1]:
                item[2] = False
                self._make_pending(item[0], True, "synchronized")
            else:
                keep.append(item)
        self._inflight = keep

    def esb(self) -> None:
        """ESB (HINT #16) at the current PC, exactly as listed in the module docstring.
        An SError taken at the ESB returns to the ESB itself (R_KNWBN), which then runs
        again: that second run is what defers a virtual SError the hypervisor injected
        while handling the physical one."""
        if self._serror is None and not self._inflight and not self.regs["HCR_EL2"] & HCR_VSE:
            return  # nothing to synchronize, defer or take: a NOP (the common case)
        for _ in range(8):
            pc, el = self.pc, self.pstate.el
            if not self._esb_once() or self.pc != pc or self.pstate.el != el:
                return

    def _esb_once(self) -> bool:
        """One execution of ESB; True if it took an SError."""
        self.synchronize_errors()
        ps, regs = self.pstate, self.regs
        cur = self._serror
        if cur is not None and cur[1] and self.physical_serror_masked():
            disr = disr_from_syndrome(cur[0])
            regs["DISR_EL1"] = disr
            self._serror = None
            self.trace("esb_operation", disr=disr, disr_decoded=_fields(DISR_EL1, disr))
        hcr = regs["HCR_EL2"]
        if (ps.el < 2 and hcr & HCR_VSE and ps.daif & SPSR_A
                and virtual_serror_enabled(regs["SCR_EL3"], hcr, el2=self.el2)):
            vdisr = vdisr_from_vsesr(regs["VSESR_EL2"])
            regs["VDISR_EL2"] = vdisr
            regs["HCR_EL2"] = hcr & ~HCR_VSE
            self.trace("vesb_operation", vdisr=vdisr, vdisr_decoded=_fields(VDISR_EL2, vdisr))
        return self._check_async(serror_only=True)

    def _implicit_esb(self, return_address: int) -> bool:
        """IESB: synchronize, then take a now-pending unmasked SError with ESR.IESB=1.
        True if it took one."""
        self.synchronize_errors()
        if self._serror is not None and self._serror[1] and not self.physical_serror_masked():
            self._take_serror(return_address, iesb=True)
            return True
        return False

    def _take_serror(self, return_address: int, *, iesb: bool = False) -> None:
        syndrome = self._serror[0]
        self._serror = None
        esr = ESR_SERROR | syndrome
        if iesb and ESR_ELx.select(esr) in _IESB_LAYOUTS:
            esr |= ESR_IESB
        target = max(serror_target_el(self.regs["SCR_EL3"], self.regs["HCR_EL2"],
                                      self.pstate.el, el2=self.el2), self.pstate.el)
        self.take_exception(target, "serror", esr, return_address=return_address)

    # --- virtual SError -------------------------------------------------------------
    def _vserror_takeable(self) -> bool:
        ps, regs = self.pstate, self.regs
        hcr = regs["HCR_EL2"]
        return (ps.el < 2 and bool(hcr & HCR_VSE) and not ps.daif & SPSR_A
                and virtual_serror_enabled(regs["SCR_EL3"], hcr, el2=self.el2))

    def _take_vserror(self) -> None:
        """AArch64.TakeVirtualSErrorException: to EL1, ESR_EL1 = EC 0x2F | VSESR_EL2[24:0]
        (IL=1), clearing HCR_EL2.VSE."""
        regs = self.regs
        esr = ESR_SERROR | (regs["VSESR_EL2"] & ISS_MASK)
        regs["HCR_EL2"] &= ~HCR_VSE
        self.take_exception(1, "serror", esr, return_address=self.pc, virtual=True)

    # --- virtual IRQ (the hypervisor's vGIC list register, reduced to one INTID) --------
    def _virq_takeable(self) -> bool:
        ps, regs = self.pstate, self.regs
        hcr = regs["HCR_EL2"]
        return (ps.el < 2 and bool(hcr & HCR_VI) and bool(hcr & HCR_IMO) and not hcr & HCR_TGE
                and not ps.daif & SPSR_I and self.el2_enabled())

    def _take_virq(self) -> None:
        """A virtual IRQ to EL1 (HCR_EL2.VI with IMO=1, TGE=0, PSTATE.I=0); the INTID the
        guest's ICV_IAR1_EL1 read returns is ``virq``. VI is cleared when it is taken: this
        stands for the GICv3 list register going from pending to active (the architectural
        VI is a level the hypervisor drops), so one assertion is one interrupt."""
        self.regs["HCR_EL2"] &= ~HCR_VI
        self.active_interrupts.append((self.virq, False))
        self.take_exception(1, "irq", None, return_address=self.pc, virtual=True, intid=self.virq)

    # --- physical IRQ / FIQ ------------------------------------------------------------
    def raise_interrupt(self, intid: int, *, fiq: bool = False) -> None:
        """Assert a physical interrupt (FIQ: Group 0, e.g. a RAS interrupt to EL3)."""
        self._irqs.append((intid, fiq))
        self.trace("interrupt_pending", intid=intid, fiq=fiq)
        if self._runner is None:
            self._check_async()
        else:
            self._wake_up()

    def acknowledge_interrupt(self, *, fiq: bool | None = None) -> int:
        """ICC_IAR: the INTID of the interrupt being handled (1023 if none)."""
        for i, (intid, is_fiq) in enumerate(self.active_interrupts):
            if fiq is None or is_fiq == fiq:
                del self.active_interrupts[i]
                return intid
        return SPURIOUS_INTID

    def _interrupt_takeable(self) -> tuple[int, bool] | None:
        ps, regs = self.pstate, self.regs
        scr, hcr = regs["SCR_EL3"], regs["HCR_EL2"]
        for fiq in (True, False):
            if any(f == fiq for _, f in self._irqs) and not interrupt_masked(
                    scr, hcr, ps.el, fiq, bool(ps.daif & (SPSR_F if fiq else SPSR_I)),
                    el2=self.el2):
                for item in self._irqs:
                    if item[1] == fiq:
                        return item
        return None

    # --- taking whatever is pending -----------------------------------------------------
    def async_pending(self) -> bool:
        return bool(self._serror is not None or self._irqs
                    or self.regs["HCR_EL2"] & HCR_ASYNC)

    def _check_async(self, *, serror_only: bool = False) -> bool:
        """TakeUnmaskedSErrorInterrupts (and, unless ``serror_only``, IRQ/FIQ): take the
        first pending asynchronous exception that is not masked, at the current PC.
        Priority here: physical SError, virtual SError, FIQ, IRQ."""
        if self.machine.halted:
            return False
        if self._serror is not None and not self.physical_serror_masked():
            self._take_serror(self.pc)
            return True
        if self._vserror_takeable():
            self._take_vserror()
            return True
        if serror_only:
            return False
        if self._virq_takeable():
            self._take_virq()
            return True
        if not self._irqs:
            return False
        item = self._interrupt_takeable()
        if item is None:
            return False
        self._irqs.remove(item)
        self.active_interrupts.append(item)
        target = max(interrupt_target_el(self.regs["SCR_EL3"], self.regs["HCR_EL2"], item[1],
                                         el2=self.el2), self.pstate.el)
        self.take_exception(target, "fiq" if item[1] else "irq", None,
                            return_address=self.pc, intid=item[0])
        return True

    def _wake_up(self) -> None:
        wake = self._wake
        if wake is not None and not wake.triggered:
            wake.succeed()


def _iss_fields(syndrome: int) -> dict:
    """The named fields of an SError-format syndrome (for the trace)."""
    return _fields(ESR_ELx, ESR_SERROR | syndrome, skip=("EC", "IL"))


def _fields(reg, value: int, skip: tuple = ()) -> dict:
    f = reg.decode(value).fields
    return {k: v for k, v in f.items() if not k.startswith("RES") and k not in skip}


__all__ = ["SPURIOUS_INTID", "SErrorMixin"]
