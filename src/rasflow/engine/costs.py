"""The cost model: how long each step on the error's path takes, from ``data/costs.toml``.

Every step that takes time on real hardware (EL3 entry and exit, reading an error record,
writing a CPER, SDEI dispatch, exception entry, the world switch, an exit to user space, an
ioctl, QEMU's register sync, signal delivery, GHES processing, memory_failure, an interrupt
notification) has a low, typical and high figure in nanoseconds and the source it comes
from. A run uses the typical figures; a campaign row may draw each figure within its range
from the row's seed (:func:`sample`), so that containment times spread as they would on a
fleet. Which outputs then depend on the seed: every trace timestamp after the first costed
step, ``containment_ns`` and its per-layer breakdown; never which steps run or what they
decide (the flow is a function of the scenario alone).
"""

from __future__ import annotations

import math
import random
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

# who spends (a trace component) -> the layer it belongs to, for the per-layer breakdown
LAYERS = ("firmware", "host kernel", "KVM", "VMM", "guest")
BASES = ("measured", "derived", "estimate")


def layer_of(component: str) -> str:
    """The layer a trace component belongs to: ``fw``, ``host``, ``kvm``, ``vmm:vm0``,
    ``guest:vm0``."""
    if component == "fw":
        return "firmware"
    if component == "host":
        return "host kernel"
    if component == "kvm":
        return "KVM"
    if component.startswith("vmm:"):
        return "VMM"
    return "guest"


@dataclass(frozen=True)
class Cost:
    step: str
    what: str
    low: int
    typical: int
    high: int
    basis: str  # "measured", "derived" (from measurements of related steps) or "estimate"
    source: str


class CostError(ValueError):
    """A damaged cost file: names the entry and the field."""


def parse(text: str, where: str = "costs.toml") -> dict[str, Cost]:
    """The entries of a cost file; one clear error for a missing field, a missing source,
    or a range that does not hold (low <= typical <= high, all >= 0)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CostError(f"{where}: {e}") from None
    out: dict[str, Cost] = {}
    for step, e in doc.items():
        if not isinstance(e, dict):
            raise CostError(f"{where}: [{step}]: not a table")
        for key, kind in (("what", str), ("low", int), ("typical", int), ("high", int),
                          ("basis", str), ("source", str)):
            if not isinstance(e.get(key), kind) or isinstance(e.get(key), bool):
                raise CostError(f"{where}: [{step}].{key}: missing or not {kind.__name__}")
        if e["basis"] not in BASES:
            raise CostError(f"{where}: [{step}].basis: {e['basis']!r}, not one of {', '.join(BASES)}")
        if not e["source"].strip():
            raise CostError(f"{where}: [{step}].source: empty: every figure cites its source")
        if not 0 <= e["low"] <= e["typical"] <= e["high"]:
            raise CostError(f"{where}: [{step}]: needs 0 <= low <= typical <= high, got "
                            f"{e['low']}, {e['typical']}, {e['high']}")
        out[step] = Cost(step, e["what"], e["low"], e["typical"], e["high"], e["basis"],
                         e["source"])
    return out


@cache
def table() -> Mapping[str, Cost]:
    """The package's cost file, parsed once."""
    text = resources.files("rasflow.data").joinpath("costs.toml").read_text(encoding="utf-8")
    return MappingProxyType(parse(text))


@cache
def typical() -> Mapping[str, int]:
    """Every step's typical figure: what a run uses."""
    return MappingProxyType({k: c.typical for k, c in table().items()})


def sample(seed: int | str) -> dict[str, int]:
    """Every step's figure drawn from its range, from ``seed`` alone (the same seed gives the
    same figures): triangular in log space with its mode at the typical figure, because the
    ranges span orders of magnitude (a GHES record printed to a fast console or to a 115200
    baud serial line) and the high end is the rare case, not a third of the draws."""
    rng = random.Random(f"{seed}:costs")
    return {k: round(math.exp(rng.triangular(math.log(max(c.low, 1)), math.log(c.high),
                                             math.log(max(c.typical, 1)))))
            if c.high > c.low else c.typical for k, c in table().items()}
