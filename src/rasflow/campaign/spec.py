"""Campaign specs: TOML text -> a validated :class:`Campaign`.

A spec names a base scenario (``[base] scenario = NAME|FILE`` or an inline machine, host and
VMs in the scenario schema), the fault distributions (``[faults]``), the sweep of policies
and settings (``[sweep]``), the number of faults (``count``), the ``seed``, and ``costs``:
``"sampled"`` (the default: each row draws every step's cost within its range from the
row's seed, engine.costs.sample, so its times spread as a fleet's would; paired rows share
the draw) or ``"typical"`` (every row the typical figures). Errors are
:class:`~rasflow.scenario.ScenarioError`, one line: ``FILE:LINE: FIELD: message``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path as FsPath
from typing import Any

from ..scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict
from ..scenario import fields as f
from ..scenario.fields import Ctx
from ..scenario.locate import Locator, Path, locate
from ..scenario.model import AETS, FAULT_KINDS, NOTIFICATIONS, POLICIES
from .fields import Weights, count_range, listof, probability, time_range, weights

REGIONS = ("vm-process", "host-process", "host-kernel", "vmm", "guest-ram", "host-ram")
MEMORY_KINDS = ("memory-ue", "memory-ce", "patrol-scrub")
CONSUME = ("load", "store", "none")
SIGNALS = ("serror", "sync", "none")
UE_AETS = tuple(a for a in AETS if a != "CE")  # what a PE or device error can signal


@dataclass(frozen=True)
class Setting:
    """One point of the sweep: a policy and the host/VM settings it runs with."""

    policy: str
    early_kill: bool
    recovery: bool
    notifications: tuple[str, ...]


@dataclass(frozen=True)
class FaultDist:
    """How faults are drawn: kind, time, memory region and consumer, CPU-error details."""

    kinds: Weights = (("memory-ue", 1.0),)
    at: tuple[int, int] = (500, 5_000)
    regions: Weights = ()
    consume: Weights = (("load", 1.0),)
    access_after: tuple[int, int] = (100, 2_000)
    ce_count: tuple[int, int] = (1, 1)
    cpu_signal: Weights = (("serror", 1.0),)
    cpu_aet: Weights = (("UER", 1.0),)
    cpu_pa: float = 0.0
    device_aet: Weights = (("UER", 1.0),)
    vserror_aet: Weights = (("UER", 1.0),)


@dataclass(frozen=True)
class Campaign:
    """A whole spec. ``settings`` is the sweep's cartesian product, in a fixed order."""

    name: str
    base: Scenario
    settings: tuple[Setting, ...]
    faults: FaultDist
    seed: int = 0
    count: int = 1000
    paired: bool = True
    costs: str = "sampled"  # each row's step costs drawn from its seed, or "typical"
    description: str = ""
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """What determines the rows (not count, name or description): hashed for resume."""
        return {"seed": self.seed, "paired": self.paired, "costs": self.costs,
                "base": self.base.to_dict(),
                "settings": [s.__dict__ for s in self.settings], "faults": self.faults.__dict__}

    def digest(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True, default=list)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class _Prefixed(Locator):
    """The lines of a sub-table: paths relative to ``prefix`` of ``parent``."""

    def __init__(self, parent: Locator, prefix: Path):
        super().__init__({})
        self.parent, self.prefix = parent, prefix

    def line(self, path: Path) -> int:
        return self.parent.line(self.prefix + tuple(path))


def _base(ctx: Ctx, raw: Any, path: Path) -> Scenario:
    if not isinstance(raw, dict):
        ctx.error(path, f"must be a table, got {f.typename(raw)}")
    if "scenario" in raw:
        extra = [k for k in raw if k != "scenario"]
        if extra:
            ctx.error(path + (extra[0],), "give scenario (a file or built-in name) or an "
                                          "inline machine/host/vms, not both")
        name = f.string(ctx, raw["scenario"], path + ("scenario",))
        near = FsPath(ctx.file).parent / name
        try:
            base = load_scenario(near if near.is_file() else name)
        except ScenarioError as e:
            if e.line:  # a problem inside the base file: its own FILE:LINE
                raise
            is_file = FsPath(name).suffix == ".toml" or len(FsPath(name).parts) > 1
            ctx.error(path + ("scenario",), f"{name}: {e.message}" if is_file else e.message)
    else:
        try:
            base = scenario_from_dict(raw, ctx.file, _Prefixed(ctx.locator, path))
        except ScenarioError as e:
            raise ScenarioError(e.file, e.line, "base." + e.field if e.field else "base",
                                e.message) from None
    return replace(base, faults=(), expect=None)


def _faults(ctx: Ctx, raw: Any, path: Path) -> FaultDist:
    def sub(convs: dict[str, f.Conv]) -> f.Conv:
        return lambda c, v, p: f.table(c, v, p, convs)
    d = f.table(ctx, raw, path, {
        "kinds": weights(*FAULT_KINDS), "at": time_range,
        "memory": sub({"regions": weights(*REGIONS), "consume": weights(*CONSUME),
                       "access_after": time_range, "ce_count": count_range}),
        "cpu": sub({"signal": weights(*SIGNALS), "aet": weights(*UE_AETS), "pa": probability}),
        "device": sub({"aet": weights(*UE_AETS)}),
        "vserror": sub({"aet": weights(*AETS)})})
    flat = {k: v for k, v in d.items() if k in ("kinds", "at")}
    flat.update(d.get("memory", {}))
    flat.update({"cpu_" + k: v for k, v in d.get("cpu", {}).items()})
    flat.update({"device_aet": d["device"]["aet"]} if "aet" in d.get("device", {}) else {})
    flat.update({"vserror_aet": d["vserror"]["aet"]} if "aet" in d.get("vserror", {}) else {})
    return FaultDist(**flat)


def _sweep(ctx: Ctx, raw: Any, path: Path, base: Scenario) -> tuple[tuple[Setting, ...], bool]:
    d = f.table(ctx, raw, path, {
        "policies": listof(f.choice(*POLICIES)), "early_kill": listof(f.boolean),
        "recovery": listof(f.boolean), "paired": f.boolean,
        "notifications": listof(lambda c, v, p: listof(f.choice(*NOTIFICATIONS))(c, v, p))})
    axes = (d.get("policies", (base.policy,)), d.get("early_kill", (base.host.early_kill,)),
            d.get("recovery", (base.host.recovery,)),
            d.get("notifications", (base.machine.notifications,)))
    return tuple(Setting(*x) for x in itertools.product(*axes)), d.get("paired", True)


def available_regions(base: Scenario) -> dict[str, bool]:
    """Which memory regions the base scenario has."""
    vm_procs = any(vm.processes for vm in base.vms)
    return {"vm-process": vm_procs, "host-process": bool(base.host.processes),
            "host-kernel": True, "vmm": bool(base.vms), "guest-ram": bool(base.vms),
            "host-ram": True}


def _check(ctx: Ctx, c: Campaign) -> Campaign:
    """Cross-check the distributions against the base scenario; fill default regions."""
    base, dist = c.base, c.faults
    kinds = dict(dist.kinds)
    needs = {"vserror": (bool(base.vms), "a VM"),
             "device-serror": (bool(base.processes()), "a process")}
    for kind, (ok, what) in needs.items():
        if kind in kinds and not ok:
            ctx.error(("faults", "kinds", kind), f"needs {what}; the base scenario "
                                                 f"{base.name!r} has none")
    have = available_regions(base)
    if any(k in kinds for k in MEMORY_KINDS):
        if not dist.regions:
            dist = replace(dist, regions=tuple((r, 1.0) for r in REGIONS if have[r]))
        for region, _ in dist.regions:
            if not have[region]:
                ctx.error(("faults", "memory", "regions", region),
                          f"the base scenario {base.name!r} has no {region.replace('-', ' ')}")
    end = dist.at[1] + dist.access_after[1]
    if end >= base.duration:
        ctx.error(("faults", "at"), f"faults and their accesses run to {end} ns, not before "
                                    f"the end of the base scenario ({base.duration} ns)")
    return replace(c, faults=dist)


# About 1,200 faults/s per core (bench/bench_campaign.py): ten million take a day on a
# few cores, and their store a few GB. Larger campaigns are several campaigns.
MAX_FAULTS = 10_000_000
FAULTS_WHY = "about 1,200 faults/s per core: ten million take a day on a few cores"


def campaign_from_dict(data: dict[str, Any], file: str = "<dict>",
                       locator: Locator | None = None) -> Campaign:
    """Build and validate a Campaign from parsed TOML."""
    ctx = Ctx(file, locator or Locator({}))
    d = f.table(ctx, data, (), {
        "name": f.string, "description": f.string, "seed": f.integer(0, (1 << 64) - 1),
        "count": f.integer(1, MAX_FAULTS, FAULTS_WHY), "costs": f.choice("sampled", "typical"),
        "base": _base, "sweep": lambda c, v, p: v,
        "faults": _faults}, required=("base",))
    settings, paired = _sweep(ctx, d.pop("sweep", {}), ("sweep",), d["base"])
    d.setdefault("faults", FaultDist())
    if not d.get("name"):
        d["name"] = FsPath(file).stem if not file.startswith("<") else "campaign"
    c = Campaign(settings=settings, paired=paired,
                 source=None if file.startswith("<") else file, **d)
    return _check(ctx, c)


def parse_campaign(text: str, file: str = "<string>") -> Campaign:
    """Parse campaign TOML ``text``; ``file`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", str(e))
        line = int(m.group(1)) if m else max(1, text.count("\n") + 1)
        msg = str(e)[:m.start()] + f" (column {m.group(2)})" if m else str(e)
        raise ScenarioError(file, line, "syntax", msg) from None
    return campaign_from_dict(data, file, locate(text))


def builtin_campaigns() -> list[str]:
    root = files(__package__).joinpath("builtin")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_campaign(path_or_name: str | FsPath) -> Campaign:
    """A spec file, or a built-in spec by name (``default``)."""
    path = FsPath(path_or_name)
    if not path.is_file() and path.suffix != ".toml" and len(path.parts) == 1:
        if str(path_or_name) not in builtin_campaigns():
            raise ScenarioError(str(path_or_name), 0, "", "no such campaign spec file or "
                                f"built-in (built-ins: {', '.join(builtin_campaigns())})")
        path = FsPath(str(files(__package__).joinpath("builtin", f"{path_or_name}.toml")))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(str(path), 0, "", e.strerror or str(e)) from None
    return parse_campaign(text, str(path))
