"""Traces for the report tests: a hand-written reference flow and a real model run."""

from __future__ import annotations

from rasflow.engine.trace import TraceEvent
from rasflow.formats.cper.estatus import decode_estatus

# The estatus block the model's firmware writes for a DRAM UE at PA 0x40001040.
ESTATUS = bytes.fromhex(
    "01000000000000000000000098000000000000001411bca5646fde4eb8633e83ed7c83b1000000000003"
    "000050000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000007fc300000000000000040400000000004010004000000000c0ffffffffffffff0000"
    "000000000000000000000802000000000000000000000000000000000000000000000000000003000000"
    "00000000")
ESR_SEA = 0x92000010
SEA_DEC = {"ec": "DABT (lower EL)", "ISV": 0, "SET": 0, "FnV": 0, "EA": 0, "WnR": 0, "DFSC": 16}


def ev(t: int, c: str, e: str, **fields) -> TraceEvent:
    return TraceEvent(t, c, e, fields)


def flow() -> list[TraceEvent]:
    """The reference flow (DESIGN.md) as the runner will trace it, with a host process."""
    rec = decode_estatus(ESTATUS).to_dict()
    return [
        ev(1000, "machine", "inject", fault="memory-ue", pa=0x40001040),
        ev(1000, "host:db", "program_start", el=0),
        ev(1100, "vm0:app", "program_start", el=0),
        ev(1200, "cpu0", "exception_entry", el=3, exception="sync", from_el=1, esr=ESR_SEA,
           esr_decoded=SEA_DEC, far=0x40001040, elr=0x400000),
        ev(1300, "fw", "ras_ea_handler", cpu=0, reason="ERROR_EA_SYNC"),
        ev(1400, "fw", "inject_sync_ea64", cpu=0, target_el=2, esr=ESR_SEA),
        ev(1500, "cpu0", "eret", from_el=3, el=2),
        ev(1600, "host", "do_sea", esr=ESR_SEA, far=0x40001040, user=True),
        ev(1700, "host", "printk", line="{1}[Hardware Error]: event severity: recoverable"),
        ev(1700, "host", "printk", line="{1}[Hardware Error]:  Error 0, type: recoverable"),
        ev(1800, "host", "memory_failure", pfn=0x40001, flags=["MF_ACTION_REQUIRED"]),
        ev(1900, "host", "signal_generate", pid=7, comm="qemu", sig=7, code=4,
           addr=0x7F0000001040, addr_lsb=12),
        ev(2000, "vmm:vm0", "vmm_sigbus", addr=0x7F0000001040, gpa=0x1040),
        ev(2100, "vmm:vm0", "cper_record", estatus=ESTATUS, decoded=rec),
        ev(2200, "kvm", "kvm_vcpu_ioctl", cmd="KVM_SET_VCPU_EVENTS", ret=0,
           struct=bytes(64)),
        ev(2300, "kvm", "world_switch", hcr_el2=0x80000000, vsesr_el2=0),
        ev(2400, "guest:vm0", "do_sea", esr=ESR_SEA),
        ev(2500, "guest:vm0", "printk", line="<script>alert('x')</script> & [bold]x[/bold]"),
        ev(2600, "guest:vm0", "signal_generate", pid=1, comm="app", sig=7, code=4, addr=0x1000),
        ev(2700, "vm0:app", "signal_deliver", pid=1, comm="app", sig=7, code=4, addr=0x1000,
           handled=False),
        ev(2800, "vm0:app", "do_exit", pid=1, comm="app", sig=7),
    ]


OUTCOME = {
    "host": "running", "vms": {"vm0": "running"}, "processes": {"vm0:app": "killed"},
    "signals": [{"target": "vm0:app", "signo": 7, "si_code": "BUS_MCEERR_AR", "si_addr": 4096}],
    "cper": {"host": [decode_estatus(ESTATUS).to_dict()], "vm0": [decode_estatus(ESTATUS)]},
    "exposed": [{"what": "ESR_EL2", "to": "vmm:vm0"}], "containment_ns": 1800,
    "trace_events": 21,
}
VERDICTS = [("host alive", "running", "running", True),
            ("<i>guest</i> killed", "vm0:app", "none", False)]


def model_trace(steps: int = 200) -> list[TraceEvent]:
    """A real model trace: a user load of a poisoned page, firmware first (bounded: the
    load of a page no task maps is retried forever)."""
    from kernel.khelpers import Host

    h = Host(firmware_first=True)
    h.m.inject("memory-ue", pa=0x40001040)
    h.kernel.spawn("app")
    h.m.pes[0].run([("load", 0x40001040)], el=0)
    for _ in range(steps):
        h.engine.step()
    return list(h.engine.trace)
