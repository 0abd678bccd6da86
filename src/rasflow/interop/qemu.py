"""QEMU ``inject-ghes-v2-error``: build the payload, write the QMP command, send it.

The command (qapi/acpi-hest.json, QEMU >= 10.2, feature ``unstable``) takes ``cper``:
base64 of a Generic Error Status Block + Generic Error Data Entries (revision 0x300) +
section payloads, not a UEFI record with a ``CPER`` header. QEMU copies it into the QMP
GHESv2 source's 1 KiB error status block and raises the GED/GPIO notification.

    payload = build_payload(record)          # CperRecord, Estatus or one section object
    text = qmp_command(payload)              # {"execute": "inject-ghes-v2-error", ...}
    with QmpClient("127.0.0.1:4445") as q:   # or a UNIX socket path
        q.execute("inject-ghes-v2-error", {"cper": base64...})
"""

from __future__ import annotations

import base64
import binascii
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from ..formats import cper
from ..formats.cper import names as cn
from ..formats.errors import FormatError

COMMAND = "inject-ghes-v2-error"
GHES_BLOCK_SIZE = 1024  # ACPI_GHES_MAX_RAW_DATA_LENGTH, hw/acpi/ghes.c
GDATA_REVISION = 0x0300


def build_payload(obj: Any, *, error_severity: int | None = None, check_size: bool = True) -> bytes:
    """The bytes QEMU writes into the status block for ``obj``.

    A CperRecord becomes one data entry per section (``cper.record_to_estatus``,
    revision 0x300); an Estatus is used as it is; a section object (anything with
    ``encode``) gets one entry with ``error_severity`` (default recoverable).
    Raises FormatError when the payload is over QEMU's 1 KiB block.
    """
    if isinstance(obj, cper.CperRecord):
        est = cper.record_to_estatus(obj, revision=GDATA_REVISION)
    elif isinstance(obj, cper.Estatus):
        est = obj
    elif hasattr(obj, "encode"):
        sev = cn.CPER_SEV_RECOVERABLE if error_severity is None else error_severity
        est = cper.build_estatus([obj], error_severity=sev, revision=GDATA_REVISION)
    else:
        raise TypeError(f"expected a CperRecord, an Estatus or a section object, got {type(obj).__name__}")
    if not est.entries:  # ghes_read_estatus(): block_status 0 is "no error", -ENOENT
        raise FormatError("the status block has no error data entry: the guest kernel would read it "
                          "as no error at all", path="block.block_status")
    data = est.encode()
    if check_size and len(data) > GHES_BLOCK_SIZE:
        raise FormatError(
            f"payload is {len(data)} bytes; QEMU's GHES error status block holds {GHES_BLOCK_SIZE} "
            "(ACPI_GHES_MAX_RAW_DATA_LENGTH) and QEMU rejects it ('GHES CPER record is too big')",
            path="cper", offset=GHES_BLOCK_SIZE, need=len(data) - GHES_BLOCK_SIZE,
        )
    return data


def qmp_arguments(payload: bytes) -> dict[str, str]:
    return {"cper": base64.b64encode(payload).decode("ascii")}


def qmp_command(payload: bytes, *, id: str | None = None) -> str:
    """The QMP JSON text that injects ``payload`` (one line)."""
    cmd: dict[str, Any] = {"execute": COMMAND, "arguments": qmp_arguments(payload)}
    if id is not None:
        cmd["id"] = id
    return json.dumps(cmd)


def dry_run_text(payload: bytes) -> str:
    """What ``--dry-run`` prints: the payload as 16-byte hex rows, then the QMP command."""
    rows = [f"{o:04x}: " + " ".join(f"{b:02x}" for b in payload[o : o + 16]) for o in range(0, len(payload), 16)]
    head = f"# {COMMAND} payload: {len(payload)} bytes (QEMU's limit {GHES_BLOCK_SIZE})"
    return "\n".join([head, *rows, qmp_command(payload)]) + "\n"


def write_qmp(objs: list[Any]) -> str:
    """One QMP command line per record / status block / section."""
    return "".join(qmp_command(build_payload(o)) + "\n" for o in objs)


@dataclass
class QmpResult:
    records: list[cper.Estatus] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file:line, reason)


def sniff_qmp(data: bytes) -> bool:
    """True when the text holds an ``inject-ghes-v2-error`` QMP command."""
    head = data[:65536]
    return b'"execute"' in head and COMMAND.encode() in head


def read_qmp(data: bytes | str, *, source: str = "") -> QmpResult:
    """Decode the ``cper`` payloads of the QMP commands in ``data`` (one JSON object per line)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    res = QmpResult()
    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"{source or '<input>'}:{lineno}"
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
        except json.JSONDecodeError as e:
            res.skipped.append((where, f"not JSON: {e.msg} at column {e.colno}"))
            continue
        if not isinstance(cmd, dict) or cmd.get("execute") != COMMAND:
            res.skipped.append((where, f"not an {COMMAND} command"))
            continue
        args = cmd.get("arguments")
        try:
            if not isinstance(args, dict):
                raise FormatError("arguments is missing or not an object", path="arguments")
            b64 = args.get("cper")
            if not isinstance(b64, str):
                raise FormatError("arguments.cper is missing or not a string", path="arguments.cper")
            try:
                payload = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError) as e:  # ValueError: a non-ASCII character
                raise FormatError(f"arguments.cper is not valid base64: {e}", path="arguments.cper") from None
            res.records.append(cper.decode_estatus(payload, 0, len(payload)))
        except FormatError as e:
            res.skipped.append((where, str(e)))
    return res


class QmpError(RuntimeError):
    """QEMU answered a command with ``{"error": {"class": ..., "desc": ...}}``."""

    def __init__(self, command: str, error_class: str, desc: str):
        super().__init__(f"QEMU refused {command!r}: {desc} ({error_class})")
        self.command, self.error_class, self.desc = command, error_class, desc


class QmpClient:
    """A minimal QMP client: greeting, ``qmp_capabilities``, then ``execute``.

    ``address`` is ``"HOST:PORT"``, a ``(host, port)`` tuple, or a UNIX socket path.
    Every read is bounded by ``timeout`` seconds; asynchronous events are kept in ``events``.
    """

    def __init__(self, address: str | tuple[str, int], *, timeout: float = 10.0):
        self.address = address
        self.timeout = timeout
        self.greeting: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self._sock: socket.socket | None = None
        self._buf = b""

    def connect(self) -> dict[str, Any]:
        """Connect, read the greeting and enter command mode; returns the greeting."""
        addr = self.address
        if isinstance(addr, str) and ":" in addr and not addr.startswith(("/", ".")):
            host, _, port = addr.rpartition(":")
            addr = (host.strip("[]"), int(port))
        if isinstance(addr, tuple):
            self._sock = socket.create_connection(addr, timeout=self.timeout)
        else:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.settimeout(self.timeout)
            self._sock.connect(addr)
        msg = self._read()
        if "QMP" not in msg:
            raise ConnectionError(f"not a QMP greeting: {msg!r}")
        self.greeting = msg
        self.execute("qmp_capabilities")
        return msg

    @property
    def version(self) -> tuple[int, int, int] | None:
        q = self.greeting.get("QMP", {}).get("version", {}).get("qemu")
        return (q["major"], q["minor"], q["micro"]) if q else None

    def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        """Send one command and return its ``return`` value; QmpError on an error reply."""
        if self._sock is None:
            raise ConnectionError("not connected")
        msg: dict[str, Any] = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self._sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                err = reply["error"]
                raise QmpError(command, err.get("class", "?"), err.get("desc", json.dumps(err)))
            if "return" in reply:
                return reply["return"]
            raise ConnectionError(f"unexpected QMP reply to {command!r}: {reply!r}")

    def inject(self, payload: bytes) -> Any:
        """``inject-ghes-v2-error`` with ``payload`` (see build_payload)."""
        return self.execute(COMMAND, qmp_arguments(payload))

    def _read(self) -> dict[str, Any]:
        assert self._sock is not None
        while b"\n" not in self._buf:
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                raise TimeoutError(f"no QMP reply from {self.address} within {self.timeout} s") from None
            if not chunk:
                raise ConnectionError(f"QMP connection to {self.address} closed")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except json.JSONDecodeError as e:
            raise ConnectionError(f"bad QMP JSON from {self.address}: {e}") from None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> QmpClient:
        if self._sock is None:
            self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "COMMAND",
    "GHES_BLOCK_SIZE",
    "QmpClient",
    "QmpError",
    "QmpResult",
    "build_payload",
    "dry_run_text",
    "qmp_arguments",
    "qmp_command",
    "read_qmp",
    "sniff_qmp",
    "write_qmp",
]
