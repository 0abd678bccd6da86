"""Kernel log text (dmesg, journalctl, syslog) back into status blocks and events.

    res = read_dmesg(text, source="boot.log")
    for r in res.records: r.estatus, r.seq, r.source_id   # one cper.Estatus per GHES/BERT print
    res.events    # Memory failure:, SError Interrupt, SIGBUS, Firmware Warn, callbacks suppressed
    res.skipped   # what looked like ours but could not be used, each with file:line and why

The lines cper.c, cper-arm.c and ghes.c print are inverted field by field; what the
log does not show stays zero with its validation bit clear, so ``cper.render_kernel``
of a read record gives the lines back. Mail damage (wrapped or joined lines,
non-breaking spaces, timestamps, caller ids, syslog prefixes) is undone where it can be.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from ..formats.cper import guids as g
from ..formats.cper import names as n
from ..formats.cper.estatus import Estatus, build_estatus
from ..formats.errors import FormatError
from ..formats.layout import Guid
from ..formats.render.kernel import (
    IGNORE_SECTIONS,
    KERNEL_SECTIONS,
    ghes_print_estatus,
    render_estatus,
)
from ._dmesg_sections import SectionParser, new_section

HW = "[Hardware Error]:"
_SEV = {v: k for k, v in n.SEVERITY_KERNEL.items()}
_TITLES = ({t: guid for guid, (t, *_rest) in KERNEL_SECTIONS.items()} | {"IA32/X64 processor error": g.CPER_SEC_PROC_IA}
           | {t: guid for guid, t in IGNORE_SECTIONS.items()})
_MARK = re.compile(r"(\{\d+\})?\[Hardware Error\]: ?")
_BRACKET = re.compile(r"^\[[^\]]*\]\s*")
_WRAP_NEXT = re.compile(r"^\s*(\[|\S+\s+\d+\s+\d\d:|\d{4}-\d\d-\d\dT|kernel:)")


@dataclass
class Skipped:
    where: str
    reason: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}: {self.text!r}"


@dataclass
class Event:
    """A RAS line that is not a CPER field: ``kind`` is memory_failure, serror, serror_panic, sigbus,
    firmware_warn, firmware_bug, bert_skipped or suppressed (ghes_print_estatus ratelimit)."""

    kind: str
    where: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class LogRecord:
    """One printed status block: what was read, where, and what could not be recovered."""

    estatus: Estatus
    where: str
    seq: int | None = None
    source_id: int | None = None
    bert: bool = False
    problems: list[str] = field(default_factory=list)
    # lines the kernel always prints that the log lacks, lines out of the kernel's order,
    # lines of the record nothing reads: the record may differ from what was printed
    damage: list[str] = field(default_factory=list)

    def render(self) -> list[str]:
        """The kernel's lines for it again (the GHES source line when the log had one)."""
        if self.source_id is not None and self.seq is not None:
            return ghes_print_estatus(self.estatus, self.source_id, self.seq)
        return render_estatus(self.estatus, seq=self.seq)


@dataclass
class DmesgResult:
    records: list[LogRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def estatus(self) -> list[Estatus]:
        return [r.estatus for r in self.records]


class _Rec:
    def __init__(self, where: str, seq: int | None):
        self.where, self.seq = where, seq
        self.source_id: int | None = None
        self.severity: int | None = None
        self.corrected_note = False
        self.sections: list[SectionParser] = []
        self.tstamp: tuple[bool, str] | None = None
        self.bert = False
        self.problems: list[str] = []

    @property
    def cur(self) -> SectionParser | None:
        return self.sections[-1] if self.sections else None


def sniff_dmesg(data: bytes) -> bool:
    """Kernel log text with CPER, memory-failure or SError lines."""
    head = data[:1 << 20]
    if b"\0" in head[:4096]:
        return False
    return any(m in head for m in (b"[Hardware Error]", b"Memory failure: ", b"SError Interrupt on CPU"))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) with NBSP undone and hard-wrapped continuations joined."""
    out: list[tuple[int, str]] = []
    raw = text.replace("\u00a0", " ").replace("\r\n", "\n").split("\n")
    for i, line in enumerate(raw, 1):
        line = line.rstrip("\r")
        if out and HW in out[-1][1] and line.strip() and HW not in line and not _WRAP_NEXT.match(line):
            prev_no, prev = out[-1]
            body = prev[prev.index(HW) + len(HW):].strip()
            if _incomplete(body):
                out[-1] = (prev_no, prev.rstrip() + " " + line.strip())
                continue
        out.append((i, line))
    return out


_HEADINGS = re.compile(r"(structure \d+|bytes|CXL DVSEC|CXL Error Log|Header Log Registers|fru_text):$")


def _incomplete(body: str) -> bool:
    """A body the mail client cut short (the next physical line continues it)."""
    if body.startswith("TLP Header:"):
        return len(body.split()) < 6
    if _HEADINGS.search(body):
        return False
    return body.endswith((":", ",", " Generic", " and"))


def _strip_prefix(line: str) -> str:
    """Drop indentation, syslog/journal prefixes up to ``kernel:``, timestamps and caller ids."""
    s = line.strip()
    k = s.find("kernel: ")
    if k >= 0 and (HW not in s or k < s.index(HW)):
        s = s[k + 8:].lstrip()
    while s.startswith("[") and not s.startswith(("[Hardware Error]", "[Firmware ")):
        m = _BRACKET.match(s)
        if not m:
            break
        s = s[m.end():]
    return s


def read_dmesg(data: bytes | str, *, source: str = "") -> DmesgResult:
    """Read kernel log text into records, events and the list of what was skipped."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    src = source or "<dmesg>"
    res = DmesgResult()
    open_recs: dict[int | None, _Rec] = {}
    done: list[_Rec] = []

    def close(key: int | None) -> None:
        r = open_recs.pop(key, None)
        if r is not None:
            done.append(r)

    for no, line in _logical_lines(text):
        where = f"{src}:{no}"
        s = _strip_prefix(line)
        _events(s, where, res)
        if "BERT: Error records from previous boot" in s:
            close(None)
            open_recs[None] = r = _Rec(where, None)
            r.bert = True
            continue
        if "[Firmware Warn]: error section length is too small" in s and len(open_recs) == 1:
            cur = next(iter(open_recs.values())).cur
            if cur is not None:
                cur.problems.append(f"{where}: the kernel found the section shorter than its type needs "
                                    "and printed no fields")
                cur.printed_fields = False
            continue
        marks = list(_MARK.finditer(s))
        if not marks:
            continue
        head = s[: marks[0].start()].strip()
        if head.endswith(("mce:", "core:")) or (head == "" and marks[0].group(1) is None and _is_mce_amd(s)):
            res.skipped.append(Skipped(where, "x86 machine-check line (not CPER)", line.strip()))
            continue
        if head.endswith("AEST:"):
            res.skipped.append(Skipped(where, "AEST kernel-first register dump (not CPER)", line.strip()))
            continue
        if "synchronous unrecoverable error" in s or re.search(r"BERT: .*Skipped \d+ error records", s):
            continue
        for j, m in enumerate(marks):
            end = marks[j + 1].start() if j + 1 < len(marks) else len(s)
            body = s[m.end():end]
            if j + 1 < len(marks):
                body = re.sub(r"\s*kernel:\s*$", "", body)
            seq = int(m.group(1)[1:-1]) if m.group(1) else None
            try:
                _line(body.rstrip("\n"), seq, where, open_recs, close, res)
            except FormatError as e:  # a value no record can hold (a GUID that is not one)
                res.skipped.append(Skipped(where, str(e), body.strip()))
    for key in list(open_recs):
        close(key)
    for r in sorted(done, key=lambda r: int(r.where.rsplit(":", 1)[1])):
        try:
            lr = _build(r, res)
            if lr is not None:
                lr.estatus.encode()  # a value the text gave that its field cannot hold
        except (OverflowError, ValueError) as e:  # (FormatError among them): not a record
            res.skipped.append(Skipped(r.where, f"cannot build the record: {e}", ""))
            continue
        if lr is not None:
            res.records.append(lr)
    return res


def _is_mce_amd(s: str) -> bool:
    body = s.split(HW, 1)[1].strip()
    return bool(re.match(r"((Deferred|Corrected|Uncorrected) error,|CPU:\d+ |Error Addr:|PPIN:|IPID:|"
                         r".*Ext\. Error Code:|cache level: \S+, tx:|Machine check)", body))


_MF = re.compile(r"Memory failure: (0x[0-9a-f]+|\d+): (.*)$")
_MF_ACTION = re.compile(r"recovery action for (.+): (Ignored|Failed|Delayed|Recovered)")
_SERROR = re.compile(r"SError Interrupt on CPU(\d+), code (0x[0-9a-f]+) -- (\S+)")
_SIGBUS = re.compile(r"([^\s:]+):(\w+): synchronous unrecoverable error \(SIGBUS\)")


def _events(s: str, where: str, res: DmesgResult) -> None:
    m = _MF.search(s)
    if m:
        f: dict[str, Any] = {"pfn": int(m.group(1), 0), "message": m.group(2).strip()}
        a = _MF_ACTION.search(m.group(2))
        if a:
            f |= {"page_type": a.group(1), "result": a.group(2)}
        k = re.search(r"(?:Sending SIGBUS to|Killing) (\S+?):(\d+)", m.group(2))
        if k:
            f |= {"comm": k.group(1), "pid": int(k.group(2))}
        res.events.append(Event("memory_failure", where, m.group(0), f))
    m = _SERROR.search(s)
    if m:
        res.events.append(Event("serror", where, m.group(0), {"cpu": int(m.group(1)), "esr": int(m.group(2), 16)}))
    if "Kernel panic - not syncing: Asynchronous SError Interrupt" in s:
        res.events.append(Event("serror_panic", where, s[s.index("Kernel panic"):]))
    m = _SIGBUS.search(s)
    if m:
        pid = int(m.group(2)) if m.group(2).isdigit() else None
        res.events.append(Event("sigbus", where, m.group(0), {"comm": m.group(1), "pid": pid}))
    if "[Firmware Warn]: GHES: " in s:
        res.events.append(Event("firmware_warn", where, s[s.index("[Firmware Warn]"):]))
    m = re.search(r"BERT: .*Skipped (\d+) error records", s)
    if m:
        res.events.append(Event("bert_skipped", where, m.group(0), {"count": int(m.group(1))}))
    if "[Firmware Bug]: Invalid error record." in s:
        res.events.append(Event("firmware_bug", where, s[s.index("[Firmware Bug]"):]))
    m = re.search(r"ghes_print_estatus: (\d+) callbacks suppressed", s)
    if m:
        res.events.append(Event("suppressed", where, m.group(0), {"count": int(m.group(1))}))


def _line(body: str, seq: int | None, where: str, open_recs: dict, close, res: DmesgResult) -> None:
    b = body.strip()
    rec: _Rec | None = open_recs.get(seq)

    def start() -> _Rec:
        bert = rec is not None and rec.bert and seq is None
        close(seq)
        r = open_recs[seq] = _Rec(where, seq)
        r.bert = bert
        return r

    m = re.match(r"Hardware error from APEI Generic Hardware Error Source: (\d+)$", b)
    if m:
        rec = start()
        rec.source_id = int(m.group(1))
        return
    if b.startswith("It has been corrected by h/w"):
        if rec is None or rec.severity is not None or rec.sections or rec.corrected_note:
            rec = start()
        rec.corrected_note = True
        return
    m = re.match(r"event severity: (\w+)$", b)
    if m:
        if rec is None or rec.severity is not None or rec.sections:
            rec = start()
        rec.severity = _SEV.get(m.group(1))
        if rec.severity is None:
            rec.problems.append(f"{where}: unknown severity {m.group(1)!r}")
        return
    if rec is None:
        if re.match(r"Error \d+, type: ", b):
            rec = start()
            rec.problems.append(f"{where}: no 'event severity' line before the first section")
        else:
            res.skipped.append(Skipped(where, "CPER line outside any record", b))
            return
    m = re.match(r"(precise|imprecise) tstamp: (.*)$", b)
    if m:
        rec.tstamp = (m.group(1) == "precise", m.group(2))
        return
    m = re.match(r"Error (\d+), type: (\w+)$", b)
    if m:
        if int(m.group(1)) != len(rec.sections):
            rec.problems.append(f"{where}: section {m.group(1)} where {len(rec.sections)} was expected")
        sev = _SEV.get(m.group(2), 0)
        rec.sections.append(new_section(where, sev, rec.tstamp))
        rec.tstamp = None
        return
    cur = rec.cur
    if cur is None:
        res.skipped.append(Skipped(where, "CPER line before any section", b))
        return
    cur.lines.append((where, b))
    m = re.match(r"fru_id: (\S+)$", b)
    if m and cur.guid is None:
        cur.fru_id = Guid.parse(m.group(1))
        return
    if re.match(r"fru_text:", b) and cur.guid is None:
        cur.fru_text = body.split("fru_text:", 1)[1][1:]
        return
    m = re.match(r"section_type: (.+)$", b)
    if m and cur.guid is None:
        guid = _TITLES.get(m.group(1))
        if guid is None:
            res.skipped.append(Skipped(where, "unknown section_type text", b))
            cur.problems.append(f"{where}: unknown section_type {m.group(1)!r}")
            return
        cur.set_type(guid)
        return
    m = re.match(r"section type: unknown, (\S+)$", b)
    if m and cur.guid is None:
        cur.set_type(Guid.parse(m.group(1)), unknown=True)
        return
    if not cur.feed(b, where):
        why = "fields of this section type are not read" if cur.kind in ("cxl", "ia32x64") else "not understood"
        res.skipped.append(Skipped(where, f"{why} ({cur.kind or 'untyped'} section)", b))
        if cur.kind not in ("cxl", "ia32x64"):
            cur.unread.append(f"{where}: {b[:60]!r} is not understood; the record lacks what it says")


def _build(r: _Rec, res: DmesgResult) -> LogRecord | None:
    if not r.sections and r.severity is None:
        if r.source_id is not None or r.corrected_note:
            res.skipped.append(Skipped(r.where, "record header without any section or severity", ""))
        return None
    problems = list(r.problems)
    items = []
    for sp in r.sections:
        body, hdr = sp.build()
        problems += sp.problems
        items.append((body, hdr))
    sev = r.severity
    if sev is None:
        sev = max((h["error_severity"] for _, h in items), key=lambda s: (s == 1, s == 0, s == 2), default=0)
        problems.append(f"{r.where}: no event severity line; used the sections'")
    est = build_estatus(items, error_severity=sev)
    damage = [u for sp in r.sections for u in sp.unread]
    damage += _unaccounted(r.sections, render_estatus(est))
    for i, sp in enumerate(r.sections):
        if sp.after and i == len(r.sections) - 1:
            est = est._replace(trailing=sp.after)  # bytes the kernel read past the section, as it printed them
            problems.append(f"{sp.where}: the kernel printed {len(sp.after)} bytes read past the section; "
                            "kept as the block's trailing bytes")
        elif sp.after:
            problems.append(f"{sp.where}: the kernel printed bytes read past the section; not kept")
    return LogRecord(est, r.where, r.seq, r.source_id, r.bert, problems, damage)


# Lines the kernel prints for every section of its type, whatever the validation bits
# (cper_print_proc_arm, cper_print_fw_err, the unknown-section hex dump, cper_estatus_print_section).
_ALWAYS = {"section_type", "MIDR", "num errors", "register context type", "Firmware Error Record Type",
           "Revision", "Record Identifier", "section length"}
_ROW = re.compile(r"[0-9a-f]{8}: ")
_FIXED = re.compile(r": 0x[0-9a-f]{16}$")  # %016llx: every kernel prints these at full width


def _key(line: str) -> str:
    return line.split(":", 1)[0].strip()


def _unaccounted(sections: list[SectionParser], rendered: list[str]) -> list[str]:
    """The log's lines of each section against the kernel's lines for the record read from
    them: a line the kernel always prints that the log lacks, lines in another order than
    the kernel prints them, and a fixed-width value printed otherwise than the kernel would
    print the value read (a cut line), mean the record is not what was printed."""
    printed: list[list[tuple[str, str]]] = []
    for line in rendered:
        body = line.split("]:", 1)[-1].strip()
        if re.match(r"Error \d+, type: ", body):
            printed.append([])
        elif printed and not _ROW.match(body):
            printed[-1].append((_key(body), body))
    out = []
    for sp, want in zip(sections, printed, strict=False):
        got = [(w, _key(b), b) for w, b in sp.lines if not _ROW.match(b)]
        have = {k for _, k, _ in got}
        # a log from a kernel that printed this type in another form (an older kernel's
        # "section type: unknown"): only the order of the lines both forms share is checked
        same_form = ("section_type" in have) == ("section_type" in {k for k, _ in want}) and sp.printed_fields
        want = [(k, t) for k, t in want if k in have or (same_form and k in _ALWAYS)]
        known = {k for k, _ in want}
        got = [g for g in got if g[1] in known]
        ops = difflib.SequenceMatcher(None, [k for _, k, _ in got], [k for k, _ in want], autojunk=False)
        for tag, i1, i2, j1, j2 in ops.get_opcodes():
            if tag == "equal":
                out += [f"{w}: {text!r} is not how the kernel prints the value read from it ({t!r}): cut?"
                        for (w, _, text), (_, t) in zip(got[i1:i2], want[j1:j2], strict=True)
                        if text != t and _FIXED.search(t)]
            elif tag == "insert" or (tag == "replace" and not {k for k, _ in want[j1:j2]} & have):
                where = got[i1][0] if i1 < len(got) else (got[-1][0] if got else sp.where)
                out += [f"{where}: the kernel always prints {k!r} here; the log lacks it" for k, _ in want[j1:j2]]
            else:
                out += [f"{w}: {k!r} is not where the kernel prints it (lines dropped, repeated or "
                        "out of order)" for w, k, _ in got[i1:i2]]
    return out


def write_dmesg(records: list[Any], *, seq_start: int = 1, source_id: int | None = None) -> str:
    """Kernel-style lines for records (CperRecord, Estatus or LogRecord), GHES-numbered."""
    from ..formats import cper

    out: list[str] = []
    for i, r in enumerate(records):
        if isinstance(r, LogRecord):
            out += r.render()
            continue
        est = cper.record_to_estatus(r) if isinstance(r, cper.CperRecord) else r
        seq = seq_start + i
        out += ghes_print_estatus(est, source_id, seq) if source_id is not None else render_estatus(est, seq=seq)
    return "\n".join(out) + ("\n" if out else "")


__all__ = ["DmesgResult", "Event", "LogRecord", "Skipped", "read_dmesg", "sniff_dmesg", "write_dmesg"]
