"""The EL3 firmware's tunables: what a platform port chooses (TF-A build options and
platform hooks), as one immutable value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class El3Policy:
    """How the EL3 firmware handles errors.

    - ``unacked``: a record for a source whose read-ack shows the OS has not acknowledged
      the previous one is ``"drop"``-ped (QEMU's behaviour) or ``"queue"``-d (written when
      the OS acks; the firmware re-reads the ack register every ``ack_poll_ns``).
    - ``unhandled_ea``: an External abort no error record claims: ``"panic"`` (TF-A's
      plat_default_ea_handler) or ``"report"`` (a CPER from the syndrome alone, delegated).
    - ``inject_target``: the EL a delegated abort is injected at: ``"architecture"`` (where
      it would have been taken with SCR_EL3.EA=0: TEA/TGE/AMO) or ``"tf-a"`` (the narrower
      rule TF-A codes in target_el_sync_ea(), bl31/bl31_traps.c: EL2 only from EL0 with TEA
      and TGE, or from EL2 -- a guest's SEA goes to the guest's EL1, KVM never sees it).
      That injection came with commit 0c3709a89 ("feat(el3-runtime): implement synchronous
      EA injection", Oct 2025), after v2.15.0; released TF-A returns with el3_exit after
      plat_ea_handler and leaves the OS to the platform's SDEI event.
    - ``*_notify``: GHESv2 notification types to record each class of error in, in order
      of preference (the first one the HEST has wins): synchronous aborts, SErrors,
      errors signalled by a RAS interrupt (patrol scrub, deferred) and corrected errors.
    - ``delegate_serror``: what follows the logging of a lower-EL SError. ``"never"`` is
      TF-A's: handler_lower_el_async_ea -> plat_ea_handler -> el3_exit, back to where the
      SError was taken (bl31/aarch64/ea_delegate.S, v2.10..v2.14); the OS hears of the error
      only through the GHES notification. ``"uncorrected"`` (AET not CE) and ``"always"``
      are a platform option TF-A does not have: fake an SError entry at the EL that owns
      it, the "firmware reflects the SError to the hypervisor" step of the Arm RAS PRD's
      firmware-first flows and of the LKML thread (machine ``el3_serror = "reflect"``).
    - ``ce_threshold``: corrected errors per record before its counter overflows and
      raises the fault handling interrupt (the firmware preloads ERR<n>MISC0.CEC); 0 leaves
      the counters alone. ``ce_poll_ns``: also scan the records for corrected errors this
      often (0: never; the timer re-arms for ever, so run the engine ``until`` a time).
    """

    unacked: str = "drop"
    queue_depth: int = 16
    ack_poll_ns: int = 1_000_000
    unhandled_ea: str = "panic"
    inject_target: str = "architecture"
    sync_notify: tuple[str, ...] = ("SEA", "SOFTWARE_DELEGATED", "GSIV", "GPIO")
    async_notify: tuple[str, ...] = ("SEI", "SOFTWARE_DELEGATED", "GSIV", "GPIO", "POLLED")
    interrupt_notify: tuple[str, ...] = ("GSIV", "GPIO", "SOFTWARE_DELEGATED", "POLLED")
    corrected_notify: tuple[str, ...] = ("POLLED", "GSIV", "GPIO")
    delegate_serror: str = "never"
    ce_threshold: int = 1
    ce_poll_ns: int = 0

    def __post_init__(self) -> None:
        for name, allowed in (("unacked", ("drop", "queue")), ("unhandled_ea", ("panic", "report")),
                              ("inject_target", ("architecture", "tf-a")),
                              ("delegate_serror", ("uncorrected", "always", "never"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
