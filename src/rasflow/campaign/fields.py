"""Field converters of campaign specs, in the style of :mod:`rasflow.scenario.fields`:
``conv(ctx, value, path) -> value``, errors through ``ctx.error`` (``FILE:LINE: FIELD: msg``).
"""

from __future__ import annotations

from typing import Any

from ..scenario import fields as f
from ..scenario.fields import Conv, Ctx
from ..scenario.locate import Path
from ..scenario.spec import CE_COUNT_WHY, MAX_CE_COUNT

Weights = tuple[tuple[str, float], ...]  # (name, weight > 0), in the order of the allowed names


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def weights(*allowed: str) -> Conv:
    """A table ``{name = weight}``: names from ``allowed``, weights >= 0, one of them > 0.
    Normalised to the allowed order without the zero weights (so equal specs hash equal)."""
    def conv(ctx: Ctx, value: Any, path: Path) -> Weights:
        if not isinstance(value, dict):
            ctx.error(path, f"must be a table of weights {{name = number}}, got "
                            f"{f.typename(value)}")
        for key, w in value.items():
            if key not in allowed:
                ctx.error(path + (key,), f"unknown name; one of {', '.join(allowed)}")
            if not _number(w) or w < 0 or w != w or w == float("inf"):
                ctx.error(path + (key,), f"a weight is a finite number >= 0, got {w!r}")
        if not any(value.values()):
            ctx.error(path, "needs at least one weight > 0")
        return tuple((k, float(value[k])) for k in allowed if value.get(k))
    return conv


def _range(item: Conv, what: str) -> Conv:
    def conv(ctx: Ctx, value: Any, path: Path) -> tuple[int, int]:
        if not isinstance(value, list) or len(value) != 2:
            ctx.error(path, f"must be a range [low, high] of {what}, got {f.typename(value)}")
        lo, hi = item(ctx, value[0], path + (0,)), item(ctx, value[1], path + (1,))
        if lo > hi:
            ctx.error(path, f"low {value[0]!r} is above high {value[1]!r}")
        return lo, hi
    return conv


time_range = _range(f.time(), "times")
count_range = _range(f.integer(1, MAX_CE_COUNT, CE_COUNT_WHY), "counts")


def probability(ctx: Ctx, value: Any, path: Path) -> float:
    if not _number(value) or not 0 <= value <= 1:
        ctx.error(path, f"must be a number 0..1, got {value!r}")
    return float(value)


def listof(item: Conv) -> Conv:
    """A non-empty array of distinct values, each converted by ``item``."""
    def conv(ctx: Ctx, value: Any, path: Path) -> tuple:
        if not isinstance(value, list) or not value:
            ctx.error(path, f"must be a non-empty array, got {f.typename(value)}")
        out = tuple(item(ctx, v, path + (i,)) for i, v in enumerate(value))
        for i, v in enumerate(out):
            if v in out[:i]:
                ctx.error(path + (i,), f"{value[i]!r} is listed twice")
        return out
    return conv
