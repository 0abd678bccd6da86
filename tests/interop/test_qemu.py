"""QEMU inject-ghes-v2-error payloads, the QMP command text, and a QMP client (fake and real QEMU)."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import threading
import time

import pytest

from rasflow.formats import cper
from rasflow.formats.cper.memory import CperSecMemErr
from rasflow.formats.cper.sections import SECTION_TYPES, decode_section, section_class, short_name
from rasflow.formats.errors import FormatError
from rasflow.interop import qemu
from vectors import vector_files

LIBCPER = vector_files("libcper/generated/*.cper") + vector_files("libcper/examples/*.cperhex")


def _record(path):
    data = path.read_bytes() if path.suffix == ".cper" else bytes.fromhex("".join(path.read_text().split()))
    return cper.decode(data, lenient=True)


def _sections_by_type():
    """One section object per GUID we encode: from libcper's records, and for the CXL component
    GUIDs libcper does not generate, a general-media body decoded under that GUID."""
    out = {}
    for p in LIBCPER:
        for s in _record(p).sections:
            g = bytes(s.descriptor.section_type)
            if g in SECTION_TYPES and g not in out and not isinstance(s.body, cper.RawSection):
                out[g] = s.body
    for g in SECTION_TYPES:
        if g in out:
            continue
        donor = next((b for h, b in out.items() if section_class(h) is section_class(g)), None)
        if donor is not None:
            raw = donor.encode()
            out[g] = decode_section(g, memoryview(raw), 0, len(raw))
    return out


def test_memory_section_payload_is_qemus_layout():
    sec = CperSecMemErr(validation_bits=0x4002, physical_addr=0x7E000000)
    p = qemu.build_payload(sec)
    assert len(p) == 172  # what QEMU's acpi_ghes_memory_errors writes: 20 + 72 + 80
    assert p[:4] == b"\x01\0\0\0" and int.from_bytes(p[12:16], "little") == 152
    assert int.from_bytes(p[20 + 20 : 20 + 22], "little") == 0x300  # data entry revision
    est = cper.decode(p)
    assert isinstance(est, cper.Estatus) and est.entries[0].body == sec and est.check() == []


@pytest.mark.skipif(not LIBCPER, reason="../shared/vectors/libcper absent")
def test_every_section_type_round_trips_through_the_payload():
    secs = _sections_by_type()
    missing = [short_name(g) for g in SECTION_TYPES if g not in secs]
    assert not missing, f"no section object for {missing}"
    for g, body in secs.items():
        try:
            p = qemu.build_payload(body)
        except FormatError as e:
            assert "1024" in str(e) and len(body.encode()) + 92 > 1024
            p = qemu.build_payload(body, check_size=False)
        est = cper.decode(p)
        assert [e.body for e in est.entries] == [body], short_name(g)
        assert bytes(est.entries[0].header.section_type) == g
        assert est.entries[0].header.revision == 0x300


@pytest.mark.skipif(not LIBCPER, reason="../shared/vectors/libcper absent")
def test_records_and_status_blocks_give_the_same_sections():
    too_big = 0
    for p in LIBCPER:
        rec = _record(p)
        try:
            payload = qemu.build_payload(rec)
        except FormatError as e:
            assert "QEMU's GHES error status block holds 1024" in str(e)
            assert len(cper.record_to_estatus(rec).encode()) > 1024
            too_big += 1
            continue
        est = cper.decode(payload)
        assert [e.body for e in est.entries] == [s.body for s in rec.sections], p.name
        assert [e.header.error_severity for e in est.entries] == [s.descriptor.section_severity for s in rec.sections]
        assert qemu.build_payload(est) == payload  # a status block goes in as it is
    assert too_big < len(LIBCPER)


def test_size_limit_and_bad_objects():
    sec = CperSecMemErr(validation_bits=2, physical_addr=0x1000)
    big = cper.build_estatus([sec] * 6, error_severity=0)  # 20 + 6 * 152 = 932: fits
    assert len(qemu.build_payload(big)) == 932
    bigger = cper.build_estatus([sec] * 7, error_severity=0)  # 1084
    with pytest.raises(FormatError, match="payload is 1084 bytes; QEMU's GHES error status block holds 1024"):
        qemu.build_payload(bigger)
    with pytest.raises(TypeError, match="expected a CperRecord"):
        qemu.build_payload(42)


def test_qmp_command_text_and_reading_it_back():
    sec = CperSecMemErr(validation_bits=2, physical_addr=0x7E000000)
    payload = qemu.build_payload(sec)
    text = qemu.qmp_command(payload)
    cmd = json.loads(text)
    assert cmd == {"execute": "inject-ghes-v2-error", "arguments": {"cper": base64.b64encode(payload).decode()}}
    assert qemu.sniff_qmp(text.encode())
    dry = qemu.dry_run_text(payload).splitlines()
    assert dry[0] == "# inject-ghes-v2-error payload: 172 bytes (QEMU's limit 1024)"
    assert dry[1].startswith("0000: 01 00 00 00 00 00 00 00 00 00 00 00 98 00 00 00") and dry[-1] == text
    res = qemu.read_qmp(qemu.write_qmp([sec, sec]) + "not json\n" +
                        '{"execute": "inject-ghes-v2-error", "arguments": {"cper": "AAA*"}}\n', source="q.jsonl")
    assert [e.entries[0].body for e in res.records] == [sec, sec]
    assert res.skipped[0][0] == "q.jsonl:3" and "not JSON" in res.skipped[0][1]
    assert res.skipped[1][0] == "q.jsonl:4" and "not valid base64" in res.skipped[1][1]


class FakeQmp:
    """A QMP server on 127.0.0.1 in a thread: greeting, capabilities, one event, canned replies."""

    def __init__(self, known=("qmp_capabilities", "query-status"), unix_path=None):
        if unix_path is None:
            self.sock = socket.create_server(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(str(unix_path))
            self.sock.listen(1)
        self.sock.settimeout(5)
        self.known = known
        self.received: list[dict] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        conn.settimeout(5)
        f = conn.makefile("rwb")
        f.write(b'{"QMP": {"version": {"qemu": {"micro": 50, "minor": 1, "major": 10}, "package": ""}, '
                b'"capabilities": ["oob"]}}\r\n')
        f.flush()
        for line in f:
            msg = json.loads(line)
            self.received.append(msg)
            cmd = msg["execute"]
            if cmd == "query-status":
                f.write(b'{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}\r\n')
            if cmd in self.known:
                reply = {"return": {"status": "prelaunch"} if cmd == "query-status" else {}}
            else:
                reply = {"error": {"class": "CommandNotFound", "desc": f"The command {cmd} has not been found"}}
            f.write(json.dumps(reply).encode() + b"\r\n")
            f.flush()
        conn.close()

    def close(self):
        self.sock.close()
        self.thread.join(5)


def test_fake_qmp_handshake_success_and_command_not_found():
    srv = FakeQmp()
    try:
        with qemu.QmpClient(f"127.0.0.1:{srv.port}", timeout=5) as q:
            assert q.version == (10, 1, 50)
            assert q.execute("query-status") == {"status": "prelaunch"}
            assert q.events[0]["event"] == "STOP"
            with pytest.raises(qemu.QmpError) as ei:
                q.inject(qemu.build_payload(CperSecMemErr(validation_bits=2, physical_addr=0x1000)))
            assert ei.value.error_class == "CommandNotFound"
            assert "QEMU refused 'inject-ghes-v2-error': The command inject-ghes-v2-error has not been found" in str(ei.value)
        assert [m["execute"] for m in srv.received] == ["qmp_capabilities", "query-status", "inject-ghes-v2-error"]
        assert base64.b64decode(srv.received[2]["arguments"]["cper"])[:4] == b"\x01\0\0\0"
    finally:
        srv.close()


def test_fake_qmp_over_a_unix_socket(tmp_path):
    path = tmp_path / "qmp.sock"
    srv = FakeQmp(unix_path=path)
    try:
        with qemu.QmpClient(str(path), timeout=5) as q:
            assert q.execute("query-status") == {"status": "prelaunch"}
            with pytest.raises(qemu.QmpError, match="The command nope has not been found"):
                q.execute("nope")
    finally:
        srv.close()


def test_fake_qmp_timeout_is_bounded():
    srv = socket.create_server(("127.0.0.1", 0))  # accepts, never greets
    try:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError, match="no QMP reply"):
            qemu.QmpClient(srv.getsockname(), timeout=0.3).connect()
        assert time.monotonic() - t0 < 3
    finally:
        srv.close()


QEMU = shutil.which("qemu-system-aarch64")


@pytest.mark.skipif(QEMU is None, reason="qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)")
def test_real_qemu_handshake_and_inject_reply():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [QEMU, "-machine", "virt", "-qmp", f"tcp:127.0.0.1:{port},server=on,wait=off", "-S",
         "-nographic", "-display", "none", "-nic", "none"],  # no NIC: no option ROM needed
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        q = None
        while q is None:
            try:
                q = qemu.QmpClient(("127.0.0.1", port), timeout=5)
                q.connect()
            except (ConnectionRefusedError, ConnectionError):
                q = None
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"QEMU did not open QMP: {proc.stdout.read().decode(errors='replace')}")
                time.sleep(0.1)
        with q:
            assert q.version is not None
            assert q.execute("query-status")["status"] == "prelaunch"
            payload = qemu.build_payload(CperSecMemErr(validation_bits=2, physical_addr=0x40000000))
            if q.version >= (10, 2, 0):
                # the command exists; without -M virt,ras=on and firmware there is no GHES to fill
                with pytest.raises(qemu.QmpError):
                    q.inject(payload)
            else:
                with pytest.raises(qemu.QmpError, match="has not been found") as ei:
                    q.inject(payload)
                assert ei.value.error_class == "CommandNotFound"
    finally:
        proc.kill()
        proc.wait(5)
        proc.stdout.close()


def test_qmp_arguments_of_the_wrong_type_are_skipped_with_a_reason():
    from rasflow.interop.qemu import read_qmp

    res = read_qmp('{"execute":"inject-ghes-v2-error","arguments":[1]}\n'
                   '{"execute":"inject-ghes-v2-error","arguments":{"cper":"\\u00e9"}}\n', source="q")
    assert [w for w, _ in res.skipped] == ["q:1", "q:2"]
    assert "arguments is missing or not an object" in res.skipped[0][1]
    assert "not valid base64" in res.skipped[1][1]


def test_acpi_from_dict_with_a_kind_that_is_not_a_name():
    from rasflow.formats import acpi
    from rasflow.formats.errors import FormatError

    with pytest.raises(FormatError, match="kind is not a string"):
        acpi.from_dict({"kind": {"a": 1}})
