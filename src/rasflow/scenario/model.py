"""The scenario data model: frozen dataclasses with normalised values.

Sizes are bytes, times nanoseconds, addresses ints; programs are tuples such as
``("load", 0x10000040)``, ``("sleep", 1000)``, ``("loop", 100, (("load", 0x10000000),))``.
``to_dict()`` gives the file's schema with those normalised values (JSON-ready), which
:func:`rasflow.scenario.spec.scenario_from_dict` reads back to an equal object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

POLICIES = ("upstream", "kvm-serror-exit", "sea-to-user", "delegated")
NOTIFICATIONS = ("SEA", "SEI", "SDEI", "GPIO", "GSIV", "POLLED")
PAGE_KINDS = ("anon_dirty", "anon_clean", "pagecache_dirty", "pagecache_clean", "hugetlb")
MCE_KILL = ("default", "early", "late")
EL3_SERROR = ("tf-a", "reflect")
FAULT_KINDS = ("memory-ue", "memory-ce", "patrol-scrub", "cache", "tlb", "bus",
               "device-serror", "uncontainable", "vserror")
AETS = ("UC", "UEU", "UEO", "UER", "CE")


class ScenarioError(ValueError):
    """A bad scenario file; ``str()`` is one line: ``FILE:LINE: FIELD: message``."""

    def __init__(self, file: str, line: int, field: str, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        where = f"{file}:{line}" if line else file  # line 0: the file itself (not found...)
        super().__init__(": ".join(x for x in (where, field, message) if x))

    def __reduce__(self):  # picklable across campaign workers
        return (type(self), (self.file, self.line, self.field, self.message))


def _program_to_list(program: tuple) -> list:
    return [[insn[0], insn[1], _program_to_list(insn[2])] if insn[0] == "loop" else list(insn)
            for insn in program]


@dataclass(frozen=True)
class Machine:
    """The physical machine and its firmware-first RAS platform."""

    cpus: int = 2
    ram: int = 2 << 30
    ram_base: int = 0x40000000
    ras: bool = True
    firmware_first: bool = True
    notifications: tuple[str, ...] = ("SEA", "GPIO", "POLLED")
    iesb: bool = True  # SCTLR_ELx.IESB: Linux sets it at EL1 and EL2 (INIT_SCTLR_EL1_MMU_ON, INIT_SCTLR_EL2_MMU_ON) on CPUs with the RAS extension
    poll_interval: int = 1_000_000
    el3_serror: str = "tf-a"  # after logging a lower-EL SError: "tf-a" returns (el3_exit); "reflect" fakes an SError entry at the owning EL (firmware.El3Policy.delegate_serror)

    def to_dict(self) -> dict[str, Any]:
        return {"cpus": self.cpus, "ram": self.ram, "ram_base": self.ram_base, "ras": self.ras,
                "firmware_first": self.firmware_first, "notifications": list(self.notifications),
                "iesb": self.iesb, "poll_interval": self.poll_interval,
                "el3_serror": self.el3_serror}


@dataclass(frozen=True)
class Process:
    """A user process of one kernel (``kernel`` is ``"host"`` or the VM's name)."""

    name: str
    kernel: str = "host"
    memory: int = 64 << 10
    va: int = 0x10000000
    page: str = "anon_dirty"
    share: str | None = None
    mce_kill: str = "default"
    sigbus_handler: bool = False
    cpu: int = 0
    start: int = 0
    program: tuple = ()

    @property
    def id(self) -> str:
        """``host:db`` / ``vm0:app``: how targets and verdicts name it."""
        return f"{self.kernel}:{self.name}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "memory": self.memory, "va": self.va,
                             "page": self.page}
        if self.share is not None:
            d["share"] = self.share
        d.update(mce_kill=self.mce_kill, sigbus_handler=self.sigbus_handler, cpu=self.cpu,
                 start=self.start, program=_program_to_list(self.program))
        return d


@dataclass(frozen=True)
class HostSettings:
    """Host kernel sysctls and its non-VM processes."""

    early_kill: bool = False
    recovery: bool = True
    panic_on_oops: bool = True
    processes: tuple[Process, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"early_kill": self.early_kill, "recovery": self.recovery,
                "panic_on_oops": self.panic_on_oops,
                "processes": [p.to_dict() for p in self.processes]}


@dataclass(frozen=True)
class Vm:
    """A KVM guest; vCPU ``i`` runs on physical CPU ``(cpu + i) % machine.cpus``."""

    name: str
    vcpus: int = 1
    ram: int = 512 << 20
    ipa_base: int = 0x40000000
    policy: str | None = None  # None: the scenario's policy
    ras: bool = True
    cpu: int = 0
    early_kill: bool = False
    recovery: bool = True
    hugepages: bool = False  # guest RAM backed by 2 MiB hugetlbfs pages in the VMM
    processes: tuple[Process, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "vcpus": self.vcpus, "ram": self.ram,
                             "ipa_base": self.ipa_base, "hugepages": self.hugepages}
        if self.policy is not None:
            d["policy"] = self.policy
        d.update(ras=self.ras, cpu=self.cpu, early_kill=self.early_kill, recovery=self.recovery,
                 processes=[p.to_dict() for p in self.processes])
        return d


@dataclass(frozen=True)
class Target:
    """Where a fault lands. ``kind`` and the fields it uses:

    ``proc`` (kernel, process, addr=VA) · ``pa`` (addr) · ``ipa`` (kernel=VM, addr) ·
    ``kernel`` (kernel: host or VM) · ``vmm`` (kernel=VM) · ``cpu`` (cpu) · ``vm`` (kernel=VM)
    """

    kind: str
    kernel: str | None = None
    process: str | None = None
    addr: int | None = None
    cpu: int | None = None

    def __str__(self) -> str:
        if self.kind == "proc":
            return f"{self.kernel}:{self.process}:{self.addr:#x}"
        if self.kind == "pa":
            return f"pa:{self.addr:#x}"
        if self.kind == "ipa":
            return f"{self.kernel}:ipa:{self.addr:#x}"
        if self.kind == "kernel":
            return f"{self.kernel}:kernel"
        if self.kind == "vmm":
            return f"vmm:{self.kernel}"
        if self.kind == "cpu":
            return f"cpu:{self.cpu}"
        return str(self.kernel)


@dataclass(frozen=True)
class Fault:
    """One injected fault; kind-specific fields are None where they do not apply."""

    at: int
    kind: str
    target: Target
    consume: str | None = None
    count: int | None = None
    pa: int | None = None
    signal: str | None = None
    aet: str | None = None
    esr: int | None = None
    delay: int | None = None
    synchronizable: bool | None = None  # device-serror: False if no ESB can synchronize it

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"at": self.at, "kind": self.kind, "target": str(self.target)}
        for key in ("consume", "count", "pa", "signal", "aet", "esr", "delay", "synchronizable"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        return d


@dataclass(frozen=True)
class Expect:
    """Verdicts to compare with the run's outcome; None means "not checked"."""

    host: str | None = None
    vms: dict[str, str] | None = None
    processes: dict[str, str] | None = None
    signals: tuple[dict[str, Any], ...] | None = None
    no_signals: tuple[str, ...] | None = None
    cper_host: int | None = None
    cper_guest: dict[str, int] | None = None
    exposed: tuple[dict[str, str], ...] | None = None
    contained: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for key in self.__dataclass_fields__:
            v = getattr(self, key)
            if v is not None:
                d[key] = ([dict(x) if isinstance(x, dict) else x for x in v]
                          if isinstance(v, tuple) else dict(v) if isinstance(v, dict) else v)
        return d


@dataclass(frozen=True)
class Scenario:
    """A whole scenario file. ``source`` is the file it came from (not part of to_dict)."""

    name: str
    description: str = ""
    policy: str = "upstream"
    seed: int = 0
    duration: int = 10_000_000
    machine: Machine = field(default_factory=Machine)
    host: HostSettings = field(default_factory=HostSettings)
    vms: tuple[Vm, ...] = ()
    faults: tuple[Fault, ...] = ()
    expect: Expect | None = None
    source: str | None = field(default=None, compare=False)

    def policy_of(self, vm: Vm) -> str:
        """The VM's own policy, else the scenario's."""
        return vm.policy or self.policy

    def vm(self, name: str) -> Vm:
        """The VM called ``name`` (KeyError if none)."""
        for vm in self.vms:
            if vm.name == name:
                return vm
        raise KeyError(name)

    def processes(self) -> tuple[Process, ...]:
        """Every process: the host's, then each VM's."""
        return self.host.processes + tuple(p for vm in self.vms for p in vm.processes)

    def process(self, pid: str) -> Process:
        """The process named ``host:db`` / ``vm0:app`` (KeyError if none)."""
        for p in self.processes():
            if p.id == pid:
                return p
        raise KeyError(pid)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "description": self.description,
                             "policy": self.policy, "seed": self.seed, "duration": self.duration,
                             "machine": self.machine.to_dict(), "host": self.host.to_dict(),
                             "vms": [vm.to_dict() for vm in self.vms],
                             "faults": [f.to_dict() for f in self.faults]}
        if self.expect is not None:
            d["expect"] = self.expect.to_dict()
        return d
