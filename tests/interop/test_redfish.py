"""Redfish LogEntry JSON: round trips, bad input, and every realworld/redfish vector."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from rasflow.formats import cper
from rasflow.formats.cper import guids
from rasflow.formats.errors import FormatError
from rasflow.interop.redfish import read_redfish, sniff_redfish, write_redfish
from vectors import VECTORS

VEC = VECTORS
KERNEL = VEC / "kernel"
RF = VEC / "realworld" / "redfish"


def _records() -> list[cper.CperRecord]:
    if not KERNEL.is_dir():
        pytest.skip(f"{KERNEL} absent")
    out = []
    for p in sorted(KERNEL.glob("*.estatus.bin")):
        est = cper.decode(p.read_bytes())
        out.append(cper.estatus_to_record(est) if isinstance(est, cper.Estatus) else est)
    assert out
    return out


def test_round_trip_records_exact():
    recs = _records()
    text = write_redfish(recs)
    assert sniff_redfish(text.encode())
    res = read_redfish(text, source="w.json")
    assert res.skipped == []
    assert [r.encode() for r in res.records] == [r.encode() for r in recs]
    assert res.records == recs


def test_single_entry_and_sections():
    rec = _records()[0]
    one = read_redfish(write_redfish([rec], single=True))
    assert one.records == [rec] and one.entries[0].path == "$"
    secs = read_redfish(write_redfish([rec], sections=True))
    assert [e.data_type for e in secs.entries] == ["CPERSection"] * len(rec.sections)
    for e, s in zip(secs.entries, rec.sections, strict=True):
        assert e.record.sections[0].body.encode() == s.body.encode()
        assert e.record.sections[0].descriptor.section_type == s.descriptor.section_type


def _collection_with(bad: str) -> str:
    doc = json.loads(write_redfish(_records()[:4]))
    doc["Members"][3]["DiagnosticData"] = bad
    return json.dumps(doc)


def test_truncated_base64_named_by_path():
    good = json.loads(write_redfish(_records()[:4]))["Members"][3]["DiagnosticData"]
    text = _collection_with(good[:-3])
    res = read_redfish(text, source="c.json")
    assert len(res.records) == 3
    (sk,) = res.skipped
    assert sk.where == "c.json:Members[3].DiagnosticData" and "truncated base64" in sk.reason
    with pytest.raises(FormatError) as ei:
        read_redfish(text, strict=True)
    assert ei.value.path == "Members[3].DiagnosticData"


def test_undecodable_record_named_by_path():
    good = json.loads(write_redfish(_records()[:4]))["Members"][3]["DiagnosticData"]
    raw = base64.b64decode(good)
    cut = base64.b64encode(raw[:100]).decode()  # header cut short
    res = read_redfish(_collection_with(cut))
    (sk,) = res.skipped
    assert sk.where.startswith("Members[3].DiagnosticData") and "truncated" in sk.reason
    bad = base64.b64encode(b"XXXX" + raw[4:]).decode()
    with pytest.raises(FormatError, match=r"Members\[3\]\.DiagnosticData"):
        read_redfish(_collection_with(bad), strict=True)


def test_invalid_json_names_line():
    with pytest.raises(FormatError, match=r"x\.json:2:\d+: not valid JSON"):
        read_redfish('{"a": 1,\n}', source="x.json")


# ---- realworld vectors: which are readable and which give which error ----

def _vec(name: str) -> Path:
    p = RF / name
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


def test_rw_01_amd_crashdump_collection_is_not_json():
    p = _vec("01-amd-openbmc-rfc-crashdump-logentry-collection-cper-attachments-oem-type.json.txt")
    assert sniff_redfish(p.read_bytes())
    # as published: mail damage (a no-break space before "[" on line 7, a trailing comma
    # after the last member) -> clear error with line:col
    with pytest.raises(FormatError, match=r"01-amd.*:7:2: not valid JSON"):
        read_redfish(p.read_bytes(), source=p.name)
    # with the mail damage repaired: 2 OEM entries, both skipped with reasons
    fixed = re.sub(r"\},\s*\]", "}]", p.read_text().replace("\u00a0", " "))
    res = read_redfish(fixed, source=p.name)
    assert res.records == []
    assert [s.where for s in res.skipped] == [f"{p.name}:Members[{i}].DiagnosticDataType" for i in (0, 1)]
    assert all("'OEM', not CPER" in s.reason for s in res.skipped)


def test_rw_u01_fvp_faultlog_entry():
    p = _vec("unattributed/u01-arm-fvp-openbmc-faultlog-cper-logentry.json.txt")
    # a curl command line first and the closing brace missing -> not JSON
    with pytest.raises(FormatError, match=r"u01.*:1:\d+: not valid JSON"):
        read_redfish(p.read_bytes(), source=p.name)
    body = p.read_text().split("\n", 1)[1].rstrip() + "\n}"
    res = read_redfish(body, source=p.name)
    (sk,) = res.skipped
    assert sk.where == f"{p.name}:DiagnosticData"
    assert "attachment at /redfish/v1/Managers/bmc/LogServices/FaultLog/Entries/1/attachment" in sk.reason


def test_rw_u02_nvidia_cpersection_with_whole_record():
    p = _vec("unattributed/u02-nvidia-hgx-eventrecord-cpersection-diagnosticdata-rust-test-literal.txt")
    text = p.read_text()
    # a Rust json! literal, not JSON
    with pytest.raises(FormatError, match="not valid JSON"):
        read_redfish(text, source=p.name)
    body = text[text.index("{"): text.rindex("}") + 1].replace("_u32", "")
    body = re.sub(r",(\s*\})", r"\1", body)
    # the base64 carries a copy-paste artefact (newline, spaces, a literal backslash-n)
    data = re.search(r'"DiagnosticData": "([^"]*)"', body, re.S).group(1)
    doc_text = body.replace(data, data.replace("\n", "\\n"))
    res = read_redfish(doc_text, source=p.name)
    (sk,) = res.skipped
    assert sk.where == f"{p.name}:DiagnosticData" and "invalid base64" in sk.reason
    clean = re.sub(r"\s+|\\n", "", data)
    res = read_redfish(body.replace(data, clean), source=p.name)
    assert res.skipped == []
    (rec,) = res.records
    assert rec.nbytes == 408 and len(rec.sections) == 1
    assert rec.sections[0].descriptor.section_type == guids.CPER_SEC_PCIE
    assert res.entries[0].data_type == "CPERSection"


def test_estatus_input_and_sniff():
    if not KERNEL.is_dir():
        pytest.skip(f"{KERNEL} absent")
    est = cper.decode(sorted(KERNEL.glob("memory*.estatus.bin"))[0].read_bytes())
    res = read_redfish(write_redfish([est]))
    assert res.records == [cper.estatus_to_record(est)]
    assert not sniff_redfish(b"CPER\x01\x01") and not sniff_redfish(b'{"foo": 1}')


def test_a_severity_of_the_wrong_json_type_is_named():
    """A CPERSection entry whose Severity is a list: one problem naming the field, the
    other entries still read (never a TypeError)."""
    rec = _records()[0]
    doc = json.loads(write_redfish([rec], sections=True))
    doc["Members"][0]["Severity"] = ["Critical"]
    res = read_redfish(json.dumps(doc), source="s.json")
    assert len(res.records) == len(rec.sections) - 1
    (sk,) = res.skipped
    assert sk.where.startswith("s.json:Members[0]") and "Severity is not a string" in sk.reason
