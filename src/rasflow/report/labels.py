"""Short labels and field formatting for trace events, shared by the diagram and timeline."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..formats.linux.siginfo import BUS_CODES, SI_CODES, SIGNALS

# Synchronous External abort DFSC/IFSC values (not on / on a translation table walk, and
# the parity/ECC forms): an exception with one of these is an SEA.
_SEA_FSC = {0x10, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F}
# Keys whose integer values read best in hex (registers, addresses, frame numbers).
_HEX_KEY = re.compile(r"esr|far|elr|spsr|addr|(^|_)pa$|(^|_)va$|pfn|hcr|vsesr|disr|status|syndrome"
                      r"|register|block|vector|entry|gpa|gva|hva|ipa|mask|fsc|^iss", re.I)
_LONG = 64  # longer strings (hex blobs) are cut in hover text


def format_value(key: str, v: Any) -> str:
    """One field value as text: registers and addresses in hex, long blobs cut."""
    if isinstance(v, int) and not isinstance(v, bool) and (v > 0xFFFF or _HEX_KEY.search(key)):
        return f"{v:#x}"
    s = v.hex() if isinstance(v, bytes | bytearray) else str(v)
    return s if len(s) <= _LONG else s[:_LONG] + f"… ({len(s)} chars)"


def flat_fields(fields: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, text) for every leaf of ``fields``; lists of scalars stay on one line."""
    for k, v in fields.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            yield from flat_fields(v, key + ".")
        elif isinstance(v, list | tuple) and any(isinstance(x, Mapping) for x in v):
            for i, x in enumerate(v):
                if isinstance(x, Mapping):
                    yield from flat_fields(x, f"{key}[{i}].")
                else:
                    yield f"{key}[{i}]", format_value(k, x)
        elif isinstance(v, list | tuple):
            yield key, "[" + ", ".join(format_value(k, x) for x in v) + "]"
        else:
            yield key, format_value(k, v)


def describe_fields(fields: Mapping[str, Any]) -> str:
    """Multi-line ``key = value`` text of the decoded fields (hover text, side panel)."""
    return "\n".join(f"{k} = {v}" for k, v in flat_fields(fields))


def _esr_label(f: Mapping[str, Any]) -> str:
    esr = f.get("esr")
    dec = f.get("esr_decoded") or {}
    exc = str(f.get("exception", ""))
    fsc = dec.get("DFSC", dec.get("IFSC"))
    if exc.lower() == "serror" or "SError" in str(dec.get("ec", "")):
        kind = "SError"
    elif exc == "sync" and isinstance(fsc, int) and fsc in _SEA_FSC:
        kind = "SEA"
    else:
        kind = " ".join(str(x) for x in (exc, dec.get("ec")) if x) or "exception"
    return f"{kind} ESR={esr:#x}" if isinstance(esr, int) else kind


def _signal_label(f: Mapping[str, Any]) -> str:
    sig = f.get("sig", f.get("signo"))
    name = SIGNALS.get(sig, f"signal {sig}") if isinstance(sig, int) else str(sig)
    code = f.get("code", f.get("si_code"))
    if isinstance(code, int):
        code = (BUS_CODES if name == "SIGBUS" else {}).get(code) or SI_CODES.get(code, code)
    parts = [name, str(code) if code is not None else ""]
    addr = f.get("addr", f.get("si_addr"))
    if isinstance(addr, int):
        parts.append(f"addr={addr:#x}")
    return " ".join(p for p in parts if p)


def _find(obj: Any, key: str) -> Any:
    """The first value of ``key`` anywhere in a nested dict/list, or None."""
    if isinstance(obj, Mapping):
        if key in obj:
            return obj[key]
        obj = list(obj.values())
    if isinstance(obj, list | tuple):
        for x in obj:
            found = _find(x, key)
            if found is not None:
                return found
    return None


def _cper_label(f: Mapping[str, Any]) -> str:
    entries = _find(f, "entries") or []
    kinds = [str(e.get("type")) for e in entries if isinstance(e, Mapping) and e.get("type")]
    pa = _find(f, "physical_addr")
    label = "CPER " + (", ".join(kinds) or str(f.get("section", "record")))
    return label + (f" PA={pa:#x}" if isinstance(pa, int) else "")


def _ioctl_label(f: Mapping[str, Any]) -> str:
    """The ioctl's name (``KVM_SET_VCPU_EVENTS``), and its error if it failed."""
    name = next((f[k] for k in ("cmd_name", "ioctl", "name", "cmd") if isinstance(f.get(k), str)),
                None)
    if name is None:
        cmd = f.get("cmd")
        name = f"ioctl {cmd:#x}" if isinstance(cmd, int) else "ioctl"
    err = f.get("errno")
    ret = f.get("ret")
    if not err and isinstance(ret, int) and ret < 0:
        err = ret
    return f"{name} = {err}" if err else name


def _first_int(f: Mapping[str, Any], *keys: str) -> str:
    return next((f" {k}={f[k]:#x}" for k in keys if isinstance(f.get(k), int)), "")


def _delegate_label(f: Mapping[str, Any]) -> str:
    """EL3 firmware faking an SEA entry into a lower EL (TF-A's inject_sync_ea64)."""
    esr = f.get("esr")
    return "SEA" + (f" ESR={esr:#x}" if isinstance(esr, int) else "") + \
        f" → EL{f.get('target_el', '?')}"


# Event name → label function: the interfaces worth naming on an arrow (and any
# ``*_ioctl``). Other events are labelled with their name.
INTERFACES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "exception_entry": _esr_label,
    "inject_sync_ea64": _delegate_label,
    "eret": lambda f: f"ERET EL{f.get('from_el', '?')}→EL{f.get('el', '?')}",
    "signal_generate": _signal_label,
    "signal_deliver": _signal_label,
    "vmm_sigbus": lambda f: _signal_label({"sig": 7, **f}),
    "kvm_ioctl": _ioctl_label,
    "kvm_vcpu_ioctl": _ioctl_label,
    "kvm_vm_ioctl": _ioctl_label,
    "kvm_exit": lambda f: f"kvm_exit {f.get('exit_reason', '')}".rstrip(),
    "world_switch": lambda f: "world switch" + _first_int(f, "vsesr_el2"),
    "cper_record": _cper_label,
    "inject": lambda f: f"inject {f.get('fault', '')}".rstrip() + _first_int(f, "pa"),
    "memory_failure": lambda f: "memory_failure" + _first_int(f, "pfn"),
    "panic": lambda f: "panic",
}


# Interface events that send something out of their lifeline: an arrow leaving it after
# one of these is labelled with it (the exception that took the CPU into the firmware).
OUTBOUND = {"exception_entry", "inject_sync_ea64", "signal_generate", "kvm_exit",
            "world_switch"}


def _label_fn(name: str) -> Callable[[Mapping[str, Any]], str] | None:
    fn = INTERFACES.get(name)
    if fn is None and name.endswith("_ioctl"):
        return _ioctl_label
    return fn


def is_interface(name: str) -> bool:
    return _label_fn(name) is not None


def is_outbound(name: str) -> bool:
    return name in OUTBOUND


def event_label(name: str, fields: Mapping[str, Any]) -> str:
    """The short label of one event: its interface form, else its name."""
    fn = _label_fn(name)
    return fn(fields) if fn is not None else name


def time_us(t: int, t0: int) -> str:
    """Nanoseconds since ``t0`` as microseconds with 3 decimals."""
    return f"{(t - t0) / 1000:.3f} µs"
