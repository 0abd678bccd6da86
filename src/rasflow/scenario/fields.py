"""Field converters shared by the scenario parser: raw TOML value -> normalised value.

A converter is ``conv(ctx, value, path) -> value`` and raises through ``ctx.error``, which
turns a key path into ``FILE:LINE: FIELD: message``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NoReturn

from .locate import Locator, Path, format_path
from .model import ScenarioError
from .units import format_size, format_time, parse_addr, parse_size, parse_time

Conv = Callable[["Ctx", Any, Path], Any]
NAME_RE = re.compile(r"[a-z0-9_-]+")
PAGE = 4096


class Ctx:
    """Where errors point: the file name and its locator."""

    def __init__(self, file: str, locator: Locator):
        self.file, self.locator = file, locator

    def error(self, path: Path, message: str) -> NoReturn:
        raise ScenarioError(self.file, self.locator.line(path), format_path(path), message)


def typename(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)


def table(ctx: Ctx, raw: Any, path: Path, convs: dict[str, Conv],
          required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Convert the keys of one table; unknown keys and missing required keys are errors."""
    if not isinstance(raw, dict):
        ctx.error(path, f"must be a table, got {typename(raw)}")
    for key in raw:
        if key not in convs:
            ctx.error(path + (key,), f"unknown key; allowed: {', '.join(convs)}")
    for key in required:
        if key not in raw:
            ctx.error(path + (key,), "missing (required)")
    return {key: convs[key](ctx, value, path + (key,)) for key, value in raw.items()}


def choice(*options: str) -> Conv:
    def conv(ctx: Ctx, value: Any, path: Path) -> str:
        if value not in options or not isinstance(value, str):
            ctx.error(path, f"{value!r} is not one of {', '.join(options)}")
        return value
    return conv


def boolean(ctx: Ctx, value: Any, path: Path) -> bool:
    if not isinstance(value, bool):
        ctx.error(path, f"must be true or false, got {typename(value)} {value!r}")
    return value


def integer(lo: int, hi: int, why: str = "") -> Conv:
    """An int in ``lo..hi`` inclusive; ``why`` says what the bounds are for."""
    because = f" ({why})" if why else ""

    def conv(ctx: Ctx, value: Any, path: Path) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            ctx.error(path, f"must be an integer {lo}..{hi}, got {typename(value)} {value!r}")
        if not lo <= value <= hi:
            ctx.error(path, f"{value} is out of range {lo}..{hi}{because}")
        return value
    return conv


def string(ctx: Ctx, value: Any, path: Path) -> str:
    if not isinstance(value, str) or "\n" in value:
        ctx.error(path, f"must be a one-line string, got {typename(value)}")
    return value


def name(ctx: Ctx, value: Any, path: Path) -> str:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        ctx.error(path, f"bad name {value!r}: use lowercase letters, digits, '_' and '-'")
    return value


def _unit(parse: Callable[[Any], int], show: Callable[[int], str] = str) -> Callable[..., Conv]:
    def make(minimum: int = 0, align: int = 1, maximum: int | None = None, why: str = "") -> Conv:
        """``why`` says what the bounds are for (in the error when a value is outside them)."""
        because = f" ({why})" if why else ""

        def conv(ctx: Ctx, value: Any, path: Path) -> int:
            try:
                n = parse(value)
            except ValueError as e:
                problem = str(e)
            else:
                problem = ""
            if problem:
                ctx.error(path, problem)
            if n < minimum:
                ctx.error(path, f"{value!r} is less than the minimum {show(minimum)}{because}")
            if maximum is not None and n > maximum:
                ctx.error(path, f"{value!r} is more than the maximum {show(maximum)}{because}")
            if n % align:
                ctx.error(path, f"{value!r} is not a multiple of {align}")
            return n
        return conv
    return make


size = _unit(parse_size, format_size)
time = _unit(parse_time, format_time)
addr = _unit(parse_addr)
