"""ras-mc-ctl --summary / --errors text (rasdaemon's util/ras-mc-ctl.in print formats) read
back into rasdaemon rows and summary counts; rasdaemon.py reads the SQLite database.

    res = read_text(text)                 # RasdaemonResult: --errors rows, --summary counts
"""

from __future__ import annotations

import re
from typing import Any

from .rasdaemon_model import U64, RasdaemonResult, RasEvent, Skipped

_TS = r"(?P<timestamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}|\S+)"
_ID = r"^(?P<id>\d+) " + _TS
_LOC = r"(?P<mc>-?\d+):(?P<top_layer>-?\d+):(?P<middle_layer>-?\d+):(?P<lower_layer>-?\d+)"
_MCE_REG = r"(?:mcgcap|mcgstatus|status|addr|misc|ip|tsc|walltime|cpu|cpuid|apicid|socketid|cs|bank)"
# heading -> (table, "summary"|"errors", pattern of each line under it); ras-mc-ctl's print formats
_HEADINGS: dict[str, tuple[str, str, str]] = {
    "Memory controller events summary:": ("mc_event", "summary",
        rf"^(?P<err_type>.+?) on DIMM Label\(s\): '(?P<label>.*)' location: {_LOC} errors: (?P<count>\d+)$"),
    "PCIe AER events summary:": ("aer_event", "summary", r"^(?P<count>\d+) (?P<err_type>.+?) errors: (?P<err_msg>.*)$"),
    "ARM processor events summary:": ("arm_event", "summary",
        r"^CPU\(mpidr=(?P<mpidr>0x[0-9a-f]+)\) has (?P<count>\d+) errors$"),
    "Extlog records summary:": ("extlog_event", "summary", r"^(?P<count>\d+) (?P<etype>.+) (?P<severity>\S+) errors$"),
    "Devlink records summary:": ("devlink_event", "summary", r"^(?P<dev_name>.+) has (?P<count>\d+) errors$"),
    "Disk errors summary:": ("disk_errors", "summary", r"^(?P<dev>.+) has (?P<count>\d+) errors$"),
    "Memory failure events summary:": ("memory_failure_event", "summary",
        r"^(?P<action_result>.+) errors: (?P<count>\d+)$"),
    "MCE records summary:": ("mce_record", "summary", r"^(?P<count>\d+) (?P<error_msg>.+) errors$"),
    "Memory controller events:": ("mc_event", "errors",
        _ID + r" (?P<err_count>\d+) (?P<err_type>\S+) error\(s\): (?P<err_msg>.*) at (?P<label>.*) location: "
        + _LOC + r", addr (?P<address>-?\d+), grain (?P<grain>-?\d+), syndrome (?P<syndrome>-?\d+) ?(?P<driver_detail>.*)$"),
    "PCIe AER events:": ("aer_event", "errors", _ID + r" (?P<dev_name>\S+) (?P<err_type>.+?) error: (?P<err_msg>.*)$"),
    "ARM processor events:": ("arm_event", "errors", _ID + r" error: (?:error_count=(?P<error_count>\d+), )?"
        r"affinity_level=(?P<affinity>-?\d+), mpidr=(?P<mpidr>0x[0-9a-f]+), "
        r"running_state=(?P<running_state>0x[0-9a-f]+), psci_state=(?P<psci_state>0x[0-9a-f]+)$"),
    "Memory failure events:": ("memory_failure_event", "errors",
        _ID + r" error: pfn=(?P<pfn>\S+), page_type=(?P<page_type>.*), action_result=(?P<action_result>.*)$"),
    "MCE events:": ("mce_record", "errors",
        _ID + rf" error: (?P<error_msg>.*?)(?P<regs>(?:, {_MCE_REG}=0x[0-9a-f]+)*)$"),
    "Extlog events:": ("extlog_event", "errors", _ID + r" error: (?P<detail>.*)$"),
    "Devlink events:": ("devlink_event", "errors", _ID + r" error: (?P<detail>.*)$"),
    "Disk errors": ("disk_errors", "errors", _ID + r" error: (?P<detail>.*)$"),
}
_COMPILED = {h: (t, k, re.compile(p)) for h, (t, k, p) in _HEADINGS.items()}
_NONE = re.compile(r"^No (?:Memory|PCIe AER|ARM processor|Extlog|devlink|disk|Memory failure|MCE) errors\.$")
_PROMPT = re.compile(r"^(?:\$|#|sudo\b|ras-mc-ctl\b)")


def sniff_text(data: bytes) -> bool:
    """ras-mc-ctl --summary/--errors text: a known heading or a "No ... errors." line."""
    lines = {ln.strip() for ln in data[:65536].decode("utf-8", "replace").splitlines()}
    return any(h in lines for h in _HEADINGS if h != "Disk errors") or any(_NONE.match(ln) for ln in lines)


def _value(k: str, v: str) -> Any:
    if re.fullmatch(r"-?\d+", v) and k not in ("timestamp", "pfn"):
        return int(v) + (1 << 64) if k in U64 and v.startswith("-") else int(v)  # perl prints them signed
    if re.fullmatch(r"0x[0-9a-f]+", v) and k != "pfn":
        return int(v, 16)
    return v


def read_text(text: str, *, source: str = "") -> RasdaemonResult:
    """ras-mc-ctl output: --errors lines become RasEvent rows (the columns it prints),
    --summary lines become ``summary`` counts; "No ... errors." lines mark empty tables.
    Anything else (prompts, unknown lines) is skipped with ``source:line``."""
    res = RasdaemonResult()
    cur: tuple[str, str, re.Pattern] | None = None
    src = source or "<text>"
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().replace("\u00a0", " ")
        where = f"{src}:{n}"
        if not line:
            continue
        if line in _COMPILED:
            cur = _COMPILED[line]
            res.tables.setdefault(cur[0], "listed")
            continue
        if _NONE.match(line):
            cur = None
            continue
        if _PROMPT.match(line):
            res.skipped.append(Skipped(where, f"shell command line: {line}"))
            continue
        m = cur[2].match(line) if cur else None
        if m is None:
            why = f"unrecognised line under {cur[0]} ({cur[1]})" if cur else "line outside any ras-mc-ctl section"
            res.skipped.append(Skipped(where, f"{why}: {line[:80]}"))
            continue
        d = {k: _value(k, v) for k, v in m.groupdict().items() if v is not None}
        if cur[0] == "mce_record":
            for k, v in re.findall(rf", ({_MCE_REG})=(0x[0-9a-f]+)", d.pop("regs", "")):
                d[k] = int(v, 16)
        if cur[1] == "summary":
            res.summary.append({"table": cur[0], "line": n, **d})
        else:
            rid = d.pop("id")
            res.events.append(RasEvent(cur[0], d, rid))
    return res
