"""The guest OS's delegated error recovery agent: the Arm RAS PRD's "delegated exception
handling" (Arm RAS System Architecture PRD, firmware-first flows; the LKML thread behind this
project). Linux has no such agent: this is the OS side of a proposed design, one kernel
component that exists only when the kernel is built with it (``Kernel(ras_agent=True)``).

- At boot each CPU registers the agent with the hypervisor through a hypercall
  (``HVC #DELEGATED_EA_HVC_REGISTER``); the entry point is ``VBAR_EL1 +
  DELEGATED_EA_AGENT_OFFSET``.
- The hypervisor enters it with the error in the EL1 registers: ESR_EL1 the syndrome,
  ELR_EL1/SPSR_EL1 where the guest was, FAR_EL1 for an abort. The agent triages:
  - an SError (EC 0x2F) with an architected syndrome (IDS=0), recoverable or restartable
    (AET UER, UEO), synchronized by the implicit ESB of an exception entry from EL0
    (ESR.IESB=1, ELR_EL1 one of the lower-EL vectors): contained to the EL0 context being
    entered; the agent asks for a virtual SError (``HVC #DELEGATED_EA_HVC_VSERROR``), which
    the ESB of that entry defers into VDISR_EL2 (DISR_EL1 to the guest), see
    :meth:`RasAgent.el0_entry`;
  - a corrected error (AET CE): nothing to do (``HVC #DELEGATED_EA_HVC_RESUME``);
  - a synchronous External abort from EL0: precise, the EL0 access is the culprit; the agent
    has it delivered as the abort it is (``HVC #DELEGATED_EA_HVC_SEA``);
  - anything else (uncontainable, IMPLEMENTATION DEFINED, not at an exception boundary,
    taken from EL1): the guest's ordinary SError panic.
- At every exception entry from EL0 the agent's kernel runs an ESB and reads DISR_EL1: a
  deferred SError there belongs to the task being entered, which is sent SIGBUS
  (BUS_OBJERR) and dies on its way back to user space.
"""

from __future__ import annotations

from ...formats.arm import kernel as ak
from ...formats.linux.kvm import (
    DELEGATED_EA_AGENT_OFFSET,
    DELEGATED_EA_HVC_REGISTER,
    DELEGATED_EA_HVC_RESUME,
    DELEGATED_EA_HVC_SEA,
    DELEGATED_EA_HVC_VSERROR,
)
from ...formats.linux.siginfo import BUS_OBJERR, SIGBUS
from ...hw.arch import GROUP_LOWER64, spsr_decode
from ..task import SigInfo, force_sig_info

_LOWER_EL_VECTORS = range(GROUP_LOWER64, GROUP_LOWER64 + 0x400)  # AArch64 and AArch32 groups
_CONTAINABLE = (ak.ESR_ELx_AET_UER, ak.ESR_ELx_AET_UEO)
_SEA_ECS = (ak.ESR_ELx_EC_DABT_LOW, ak.ESR_ELx_EC_IABT_LOW)


def triage(esr: int, elr: int, spsr_el: int, vbar: int) -> str:
    """The agent's decision for the error in ESR_EL1, taken at ELR_EL1 from EL ``spsr_el``:
    "vserror", "resume", "sea" or "panic" (see the module docstring)."""
    ec = ak.ESR_ELx_EC(esr)
    if ec in _SEA_ECS:
        return "sea"
    if ec != ak.ESR_ELx_EC_SERROR:
        return "panic"
    aet = ak.arm64_ras_serror_get_severity(esr)
    if aet == ak.ESR_ELx_AET_CE:
        return "resume"
    at_el0_entry = (spsr_el == 1 and elr - vbar in _LOWER_EL_VECTORS
                    and (elr - vbar) % 0x80 == 0 and bool(esr & ak.ESR_ELx_IESB))
    return "vserror" if aet in _CONTAINABLE and at_el0_entry else "panic"


_CALLS = {"vserror": DELEGATED_EA_HVC_VSERROR, "resume": DELEGATED_EA_HVC_RESUME,
          "sea": DELEGATED_EA_HVC_SEA}


class RasAgent:
    """The agent of one (guest) kernel."""

    def __init__(self, kernel):
        self.kernel = kernel

    def register(self, cpu) -> None:
        """Boot, on each CPU: install the agent at its entry point and register it with the
        hypervisor (``HVC #DELEGATED_EA_HVC_REGISTER``). The model boots a kernel in zero
        time, before its first instruction runs, so the call is made through the boot
        interface of its (virtual) CPU, as its vectors are installed."""
        entry = cpu.read_sysreg("VBAR_EL1") + DELEGATED_EA_AGENT_OFFSET
        cpu.install_entry(1, entry, self.on_entry)
        self.kernel.trace("ras_agent_register", cpu=cpu.index, entry=entry)
        cpu.hvc(DELEGATED_EA_HVC_REGISTER)

    def on_entry(self, pe) -> None:
        """The hypervisor entered the agent: triage, then the hypercall that says what to
        do, or the guest's panic."""
        k = self.kernel
        k.this_cpu = k.cpu_id(pe)
        regs = pe.regs
        esr, elr, spsr = regs["ESR_EL1"], regs["ELR_EL1"], regs["SPSR_EL1"]
        spsr_el = (spsr_decode(spsr) or (1,))[0]
        verdict = triage(esr, elr, spsr_el, regs["VBAR_EL1"])
        k.trace("ras_agent_triage", cpu=pe.index, esr=esr, elr=elr, from_el=spsr_el,
                verdict=verdict)
        if verdict == "panic":
            k.arch.arm64_serror_panic(pe, esr)
            return
        pe.hvc(_CALLS[verdict])

    def el0_entry(self, pe) -> None:
        """The ESB at an exception entry from EL0, and DISR_EL1: a deferred SError belongs
        to the task being entered, which is sent SIGBUS."""
        k = self.kernel
        pe.esb()
        disr = pe.read_sysreg("DISR_EL1")
        if not disr & ak.DISR_EL1_A:
            return
        pe.write_sysreg("DISR_EL1", 0)
        task = k.current_task(k.cpu_id(pe))
        k.trace("ras_agent_deferred_serror", cpu=pe.index, disr=disr,
                esr=ak.disr_to_esr(disr), pid=task.pid if task else None)
        if task is not None:
            force_sig_info(k, task, SigInfo(SIGBUS, BUS_OBJERR, 0))
