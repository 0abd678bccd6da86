"""The SDEI dispatcher (after TF-A ``services/std_svc/sdei``): events the OS registered,
dispatched to the client's entry point, completed by SMC. Mixed into El3Firmware.

The model has no general-purpose registers: registration is a boot-time call a scenario
makes on the OS's behalf (what SDEI_EVENT_REGISTER + ENABLE leave behind), the client's
entry runs as ``on_sdei_event(pe, event, arg, elr, spsr)`` of the handler installed at its
EL (x0-x3), and the completion's SDEI function number travels in the SMC immediate.
"""

from __future__ import annotations

from ..hw import arch

SDEI_EVENT_COMPLETE = 0x25  # SDEI function numbers (0xC4000025 / 0xC4000026, sdei.h)
SDEI_EVENT_COMPLETE_AND_RESUME = 0x26


class SdeiMixin:
    """SDEI registration, dispatch and completion of :class:`~.el3.El3Firmware`."""

    def sdei_event_register(self, event: int, client_el: int, entry: int) -> None:
        """What SDEI_EVENT_REGISTER + SDEI_EVENT_ENABLE leave in the dispatcher (a scenario
        makes these boot-time calls on the OS's behalf: the model has no GPRs for x0-x4)."""
        self.sdei_events[event] = (client_el, entry)

    def sdei_dispatch_event(self, pe, event: int, arg: int = 0) -> int:
        """sdei_intr_mgmt.c: -1 if the event is not registered or a dispatch is outstanding;
        else ELR_EL3 = the client's entry, SPSR_EL3 = its ELh with DAIF masked, ERET, and
        the client's ``on_sdei_event(pe, event, arg, elr, spsr)`` runs (x0-x3). The client
        ends with SMC SDEI_EVENT_COMPLETE(_AND_RESUME)."""
        reg = self.sdei_events.get(event)
        if reg is None or pe.index in self._sdei_ctx or pe.pstate.el != 3:
            self.trace("sdei_dispatch_event", cpu=pe.index, event=event, result=-1)
            return -1
        el, entry = reg
        regs = pe.regs
        elr, spsr = regs["ELR_EL3"], regs["SPSR_EL3"]
        self._sdei_ctx[pe.index] = (event, elr, spsr)
        self.spend("sdei_dispatch")
        regs["ELR_EL3"], regs["SPSR_EL3"] = entry, arch.SPSR_ELH_MASKED[el]
        self.trace("sdei_dispatch_event", cpu=pe.index, event=event, client_el=el, entry=entry,
                   arg=arg, interrupted_elr=elr, interrupted_spsr=spsr, result=0)
        self.el3_exit(pe)
        client = pe.handlers.get(el)
        if client is not None and hasattr(client, "on_sdei_event") and pe.pstate.el == el:
            client.on_sdei_event(pe, event, arg, elr, spsr)
        return 0

    def sdei_complete(self, pe, imm: int) -> bool:
        """SDEI_EVENT_COMPLETE(_AND_RESUME): restore the interrupted context into
        ELR_EL3/SPSR_EL3 (the caller ERETs). False if this SMC is not a completion."""
        ctx = self._sdei_ctx.get(pe.index)
        if imm not in (SDEI_EVENT_COMPLETE, SDEI_EVENT_COMPLETE_AND_RESUME) or ctx is None:
            return False
        del self._sdei_ctx[pe.index]
        event, elr, spsr = ctx
        pe.regs["ELR_EL3"], pe.regs["SPSR_EL3"] = elr, spsr
        self.trace("sdei_event_complete", cpu=pe.index, event=event,
                   resume=imm == SDEI_EVENT_COMPLETE_AND_RESUME, elr=elr)
        return True
