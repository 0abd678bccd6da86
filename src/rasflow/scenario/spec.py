"""Scenario files: TOML text -> a validated, normalised :class:`~.model.Scenario`.

``parse_scenario(text, file)`` and ``load_scenario(path_or_builtin_name)`` are the entry
points; every error is a :class:`~.model.ScenarioError` whose one-line message is
``FILE:LINE: FIELD: message``. This module checks each field on its own; ``validate``
cross-checks fields against each other (names, ranges, addresses).

Meanings the schema leaves open, as decided here:

- ``consume`` is an access the runner makes the target perform at ``at + delay`` (a process
  loads/stores the VA, a kernel or VMM touches the page); ``none`` leaves consumption to the
  programs. Defaults: ``load`` for memory-ue, ``none`` for the other kinds that take it
  (memory-ce, patrol-scrub, device-serror); None where it does not apply.
- device-serror ``PROC:VA`` names where the runner maps a device page, so VA need not lie
  in the process's memory; ``pa:`` must then be outside host RAM.
- vserror targets a VM by bare name (``vm0``); ``esr`` (the ISS the VMM gives KVM) and
  ``aet`` are alternatives; neither means "let KVM choose".
- uncontainable defaults to ``cpu:0``. A VM's vCPU ``i`` runs on ``(cpu + i) % cpus``; a
  guest process's ``cpu`` is a vCPU index.
- Names ``host``, ``pa``, ``cpu``, ``vmm`` are reserved for VMs, ``ipa``, ``kernel`` for
  processes (they would make targets ambiguous).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from importlib.resources import files
from pathlib import Path as FsPath
from typing import Any

from . import expect as expect_mod
from . import fields as f
from .fields import Ctx
from .locate import Locator, Path, locate
from .model import (
    AETS,
    EL3_SERROR,
    FAULT_KINDS,
    MCE_KILL,
    NOTIFICATIONS,
    PAGE_KINDS,
    POLICIES,
    Fault,
    HostSettings,
    Machine,
    Process,
    Scenario,
    ScenarioError,
    Target,
    Vm,
)
from .validate import validate

OPERANDS = {"load": ("VA",), "store": ("VA", "value"), "svc": ("imm",), "hvc": ("imm",),
            "smc": ("imm",), "esb": (), "sleep": ("time",), "loop": ("count", "body")}
FAULT_KEYS = {  # keys each kind takes besides at, kind, target
    "memory-ue": ("consume",), "memory-ce": ("count", "consume"), "patrol-scrub": ("consume",),
    "cache": ("pa", "signal", "aet", "delay"), "tlb": ("pa", "signal", "aet", "delay"),
    "bus": ("pa", "signal", "aet", "delay"), "device-serror": ("aet", "delay", "consume", "synchronizable"),
    "uncontainable": (), "vserror": ("esr", "aet")}
MEMORY_TARGETS = ("proc", "pa", "ipa", "kernel", "vmm")
TARGET_FORMS = {"proc": "PROC:VA", "pa": "pa:0x...", "ipa": "VM:ipa:0x...",
                "kernel": "VM:kernel | host:kernel", "vmm": "vmm:VM", "cpu": "cpu:N", "vm": "VM"}
KIND_TARGETS = {"memory-ue": MEMORY_TARGETS, "memory-ce": MEMORY_TARGETS,
                "patrol-scrub": MEMORY_TARGETS, "cache": ("cpu",), "tlb": ("cpu",),
                "bus": ("cpu",), "uncontainable": ("cpu",), "device-serror": ("proc", "pa"),
                "vserror": ("vm",)}
DEFAULT_NAME = "scenario"

# Limits: what a model kernel needs, and what a run finishes in reasonable time (a busy
# program costs about 2 s of run time per simulated ms; a memory-ce is about 5 us each).
MIN_RAM = 128 << 20
RAM_WHY = "a kernel's image and early allocations take the first 64MiB, as in kernel/mm/page.py"
MAX_DURATION = 100_000_000
DURATION_WHY = "a busy program runs about 2 s per simulated ms: longer runs do not finish in minutes"
MAX_CE_COUNT = 1 << 20
CE_COUNT_WHY = "the 16-bit ERR<n>MISC0.CEC wraps 16 times by then; more adds run time, not behaviour"


# --- processes and programs -----------------------------------------------------------------
def _program(ctx: Ctx, raw: Any, path: Path) -> tuple:
    if not isinstance(raw, list):
        ctx.error(path, f"must be an array of instructions, got {f.typename(raw)}")
    return tuple(_insn(ctx, insn, path + (i,)) for i, insn in enumerate(raw))


def _insn(ctx: Ctx, raw: Any, path: Path) -> tuple:
    ops = ", ".join(OPERANDS)
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
        ctx.error(path, f"an instruction is an array [\"op\", operands...]; op is one of {ops}")
    op, args = raw[0], raw[1:]
    if op not in OPERANDS:
        ctx.error(path, f"unknown instruction {op!r}; one of {ops}")
    want = OPERANDS[op]
    if len(args) != len(want):
        shape = ", ".join([repr(op), *want])
        ctx.error(path, f"{op} takes {len(want)} operand(s): [{shape}], got {len(args)}")
    if op == "sleep":
        return (op, f.time()(ctx, args[0], path + (1,)))
    if op == "loop":
        return (op, f.integer(0, 1 << 32)(ctx, args[0], path + (1,)),
                _program(ctx, args[1], path + (2,)))
    if op in ("load", "store"):
        va = f.addr()(ctx, args[0], path + (1,))
        if op == "load":
            return (op, va)
        return (op, va, f.integer(0, (1 << 64) - 1)(ctx, args[1], path + (2,)))
    if op == "esb":
        return (op,)
    return (op, f.integer(0, 0xFFFF)(ctx, args[0], path + (1,)))


def _process(ctx: Ctx, raw: Any, path: Path, kernel: str) -> Process:
    d = f.table(ctx, raw, path, {
        "name": f.name, "memory": f.size(f.PAGE, f.PAGE), "va": f.addr(0, f.PAGE),
        "page": f.choice(*PAGE_KINDS), "share": f.name, "mce_kill": f.choice(*MCE_KILL),
        "sigbus_handler": f.boolean, "cpu": f.integer(0, 255), "start": f.time(),
        "program": _program}, required=("name",))
    if d["name"] in ("ipa", "kernel"):
        ctx.error(path + ("name",), f"{d['name']!r} is reserved (targets use VM:{d['name']})")
    return Process(kernel=kernel, **d)


def _processes(ctx: Ctx, raw: Any, path: Path, kernel: str) -> tuple[Process, ...]:
    if not isinstance(raw, list):
        ctx.error(path, f"must be an array of tables ([[...processes]]), got {f.typename(raw)}")
    return tuple(_process(ctx, p, path + (i,), kernel) for i, p in enumerate(raw))


# --- machine, host, VMs -------------------------------------------------------------------
def _notifications(ctx: Ctx, raw: Any, path: Path) -> tuple[str, ...]:
    if not isinstance(raw, list):
        ctx.error(path, f"must be an array of {', '.join(NOTIFICATIONS)}")
    out = tuple(f.choice(*NOTIFICATIONS)(ctx, v, path + (i,)) for i, v in enumerate(raw))
    for i, v in enumerate(out):
        if v in out[:i]:
            ctx.error(path + (i,), f"{v} is listed twice")
    return out


def _machine(ctx: Ctx, raw: Any, path: Path) -> Machine:
    return Machine(**f.table(ctx, raw, path, {
        "cpus": f.integer(1, 256), "ram": f.size(MIN_RAM, f.PAGE, why=RAM_WHY), "ram_base": f.addr(0, f.PAGE),
        "ras": f.boolean, "firmware_first": f.boolean, "notifications": _notifications,
        "iesb": f.boolean, "poll_interval": f.time(1),
        "el3_serror": f.choice(*EL3_SERROR)}))


def _host(ctx: Ctx, raw: Any, path: Path) -> HostSettings:
    d = f.table(ctx, raw, path, {
        "early_kill": f.boolean, "recovery": f.boolean, "panic_on_oops": f.boolean,
        "processes": lambda c, v, p: _processes(c, v, p, "host")})
    return HostSettings(**d)


def _vm(ctx: Ctx, raw: Any, path: Path) -> Vm:
    vm_name = raw.get("name") if isinstance(raw, dict) else None
    d = f.table(ctx, raw, path, {
        "name": f.name, "vcpus": f.integer(1, 256), "ram": f.size(MIN_RAM, f.PAGE, why=RAM_WHY),
        "ipa_base": f.addr(0, f.PAGE), "policy": f.choice(*POLICIES), "ras": f.boolean,
        "cpu": f.integer(0, 255), "early_kill": f.boolean, "recovery": f.boolean,
        "hugepages": f.boolean,
        "processes": lambda c, v, p: _processes(c, v, p, str(vm_name))}, required=("name",))
    if d["name"] in ("host", "pa", "cpu", "vmm"):
        ctx.error(path + ("name",), f"{d['name']!r} is reserved in fault targets; pick another")
    return Vm(**d)


# --- faults ---------------------------------------------------------------------------------
def parse_target(text: str) -> Target | None:
    """``vm0:app:0x1000`` -> Target(proc...); None if it fits no form."""
    parts = text.split(":")
    addr_ok = len(parts) > 1 and re.fullmatch(r"0[xX][0-9a-fA-F_]+|[0-9_]+", parts[-1])
    value = int(parts[-1].replace("_", ""), 0) if addr_ok else None
    if len(parts) == 1 and f.NAME_RE.fullmatch(text):
        return Target("vm", kernel=text)
    if len(parts) == 2 and parts[0] == "pa" and value is not None:
        return Target("pa", addr=value)
    if len(parts) == 2 and parts[0] == "cpu" and re.fullmatch(r"[0-9]+", parts[1]):
        return Target("cpu", cpu=int(parts[1]))
    if len(parts) == 2 and parts[0] == "vmm" and f.NAME_RE.fullmatch(parts[1]):
        return Target("vmm", kernel=parts[1])
    if len(parts) == 2 and parts[1] == "kernel" and f.NAME_RE.fullmatch(parts[0]):
        return Target("kernel", kernel=parts[0])
    if len(parts) == 3 and value is not None and f.NAME_RE.fullmatch(parts[0]):
        if parts[1] == "ipa" and parts[0] != "host":
            return Target("ipa", kernel=parts[0], addr=value)
        if f.NAME_RE.fullmatch(parts[1]) and parts[1] != "ipa":
            return Target("proc", kernel=parts[0], process=parts[1], addr=value)
    return None


def _target(ctx: Ctx, raw: Any, path: Path, kind: str) -> Target:
    forms = " | ".join(TARGET_FORMS[k] for k in KIND_TARGETS[kind])
    target = parse_target(raw) if isinstance(raw, str) else None
    if target is None:
        ctx.error(path, f"bad target {raw!r}; {kind} targets: {forms} "
                        "(PROC is host:NAME or VM:NAME)")
    if target.kind not in KIND_TARGETS[kind]:
        ctx.error(path, f"{kind} cannot target {TARGET_FORMS[target.kind]} ({raw!r}); "
                        f"{kind} targets: {forms}")
    if target.kind in ("pa", "proc", "ipa") and target.addr >= 1 << 64:
        ctx.error(path, f"address {target.addr:#x} is outside 0..2**64-1")
    return target


def _fault(ctx: Ctx, raw: Any, path: Path) -> Fault:
    if not isinstance(raw, dict):
        ctx.error(path, f"must be a table, got {f.typename(raw)}")
    if "kind" not in raw:
        ctx.error(path + ("kind",), f"missing (required): one of {', '.join(FAULT_KINDS)}")
    kind = f.choice(*FAULT_KINDS)(ctx, raw["kind"], path + ("kind",))
    convs: dict[str, f.Conv] = {
        "at": f.time(), "kind": f.choice(*FAULT_KINDS),
        "target": lambda c, v, p: _target(c, v, p, kind),
        "consume": f.choice("load", "store", "none"), "count": f.integer(1, MAX_CE_COUNT, CE_COUNT_WHY),
        "pa": f.addr(), "signal": f.choice("serror", "sync", "none"), "aet": f.choice(*AETS),
        "esr": f.integer(0, (1 << 64) - 1), "delay": f.time(), "synchronizable": f.boolean}
    takes = ("at", "kind", "target") + FAULT_KEYS[kind]
    for key in raw:
        if key not in convs:
            ctx.error(path + (key,), f"unknown key; {kind} takes {', '.join(takes)}")
        if key not in takes:
            users = [k for k, keys in FAULT_KEYS.items() if key in keys]
            ctx.error(path + (key,), f"does not apply to {kind} (only to {', '.join(users)}); "
                                     f"{kind} takes {', '.join(takes)}")
    if "target" not in raw and kind != "uncontainable":
        forms = " | ".join(TARGET_FORMS[k] for k in KIND_TARGETS[kind])
        ctx.error(path + ("target",), f"missing (required): {kind} targets: {forms}")
    required = ("at",)
    d = f.table(ctx, raw, path, {k: convs[k] for k in takes}, required=required)
    if kind == "vserror" and "esr" in d and "aet" in d:
        ctx.error(path + ("aet",), "give esr (the whole ISS) or aet, not both")
    d.setdefault("target", Target("cpu", cpu=0))
    if "consume" in FAULT_KEYS[kind]:
        d.setdefault("consume", "load" if kind == "memory-ue" else "none")
    if kind == "memory-ce":
        d.setdefault("count", 1)
    if kind in ("cache", "tlb", "bus"):
        d.setdefault("signal", "serror")
        d.setdefault("delay", 0)
    if kind == "device-serror":
        d.setdefault("aet", "UER")
        d.setdefault("delay", 5)
    return Fault(**d)


def _faults(ctx: Ctx, raw: Any, path: Path) -> tuple[Fault, ...]:
    if not isinstance(raw, list):
        ctx.error(path, f"must be an array of tables ([[faults]]), got {f.typename(raw)}")
    return tuple(_fault(ctx, x, path + (i,)) for i, x in enumerate(raw))


# --- the document ---------------------------------------------------------------------------
def scenario_from_dict(data: dict[str, Any], file: str = "<dict>",
                       locator: Locator | None = None) -> Scenario:
    """Build and validate a Scenario from parsed TOML (or from ``Scenario.to_dict()``)."""
    ctx = Ctx(file, locator or Locator({}))

    def vms(c: Ctx, v: Any, p: Path) -> tuple[Vm, ...]:
        if not isinstance(v, list):
            c.error(p, f"must be an array of tables ([[vms]]), got {f.typename(v)}")
        return tuple(_vm(c, x, p + (i,)) for i, x in enumerate(v))

    d = f.table(ctx, data, (), {
        "name": f.string, "description": f.string, "policy": f.choice(*POLICIES),
        "seed": f.integer(0, (1 << 64) - 1), "duration": f.time(1, maximum=MAX_DURATION, why=DURATION_WHY), "machine": _machine,
        "host": _host, "vms": vms, "faults": _faults, "expect": expect_mod.parse_expect})
    if not d.get("name"):
        stem = FsPath(file).stem
        d["name"] = stem if stem and not file.startswith("<") else DEFAULT_NAME
    scenario = Scenario(source=None if file.startswith("<") else file, **d)
    validate(ctx, scenario)
    return scenario


def parse_scenario(text: str, file: str = "<string>") -> Scenario:
    """Parse scenario TOML ``text``; ``file`` names it in errors and in ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        line = int(m.group(1)) if m else max(1, text.count("\n") + 1)
        where = f" (column {m.group(2)})" if m else ""
        msg = msg[:m.start()] if m else re.sub(r"\s*\(at end of document\)$", "", msg)
        raise ScenarioError(file, line, "syntax", f"{msg}{where}") from None
    return scenario_from_dict(data, file, locate(text))


def builtin_names() -> list[str]:
    """The built-in scenarios, sorted."""
    root = files(__package__).joinpath("builtin")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def builtin_path(name: str) -> FsPath:
    """The file of built-in scenario ``name`` (ScenarioError if there is none)."""
    if name not in builtin_names():
        close = difflib.get_close_matches(name, builtin_names(), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ScenarioError(name, 0, "", f"no such scenario file or built-in "
                                         f"(built-ins: {', '.join(builtin_names())}){hint}")
    return FsPath(str(files(__package__).joinpath("builtin", f"{name}.toml")))


def load_scenario(path_or_name: str | FsPath) -> Scenario:
    """Load a scenario file, or a built-in by name (a built-in needs a description)."""
    path = FsPath(path_or_name)
    builtin = not path.is_file() and path.suffix != ".toml" and len(path.parts) == 1
    if builtin:
        path = builtin_path(str(path_or_name))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(str(path), 0, "", e.strerror or str(e)) from None
    scenario = parse_scenario(text, str(path))
    if builtin and not scenario.description:
        raise ScenarioError(str(path), 1, "description", "missing (required for built-ins)")
    return scenario
