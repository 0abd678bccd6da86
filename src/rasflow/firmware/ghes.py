"""The firmware side of GHESv2: write a status block where the HEST says, honouring read-ack.

As QEMU's ghes_record_cper_errors() (hw/acpi/ghes.c) does it:

1. a record longer than the source's error block is refused;
2. the Read Ack Register is read: if the OS has not acknowledged the previous record
   (the ``read_ack_write`` bits are clear — QEMU: the register is 0), the new record
   cannot be written. QEMU fails; here the platform policy says whether it is
   dropped or queued until the OS acks (a firmware timer re-checks the register);
3. otherwise the ack bits are cleared (QEMU writes 0) and the block is written at the
   address held in the u64 the Error Status Address GAS points at.

The sources are found by decoding the HEST bytes in memory, never from Python objects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from ..engine import Component
from ..formats import acpi, cper
from ..formats.acpi.names import NOTIFY_TYPES
from ..formats.cper import names as cn
from .platform import read_table

SYNCHRONOUS_NOTIFY = frozenset({"SEA", "SEI"})  # the notification is the delegated exception
_short_name = cper.sections.short_name


@lru_cache(maxsize=64)
def _severity_name(severity: int) -> str:
    """The kernel's name of a CPER severity (cper_severity_str), memoised."""
    return cn.name(cn.SEVERITY_KERNEL, severity)


class GhesTarget(NamedTuple):
    """One GHESv2 source as the firmware reads it from the HEST."""

    index: int
    source_id: int
    notify: str
    vector: int
    error_status_address: int  # PA of the u64 holding the status block's PA
    error_block_length: int
    read_ack_register: int  # PA of the read-ack register
    read_ack_bit_offset: int
    read_ack_preserve: int
    read_ack_write: int

    @classmethod
    def from_hest_source(cls, index: int, s) -> GhesTarget:
        return cls(
            index, s.source_id, NOTIFY_TYPES.get(s.notify_type, f"unknown ({s.notify_type})"),
            s.notify_vector, s.error_status_address_address, s.error_block_length,
            s.read_ack_register_address, s.read_ack_register_bit_offset,
            s.read_ack_preserve, s.read_ack_write,
        )


def hest_ghes_targets(memory, hest_pa: int) -> list[GhesTarget]:
    """Every enabled GHESv2 source of the HEST at ``hest_pa`` (QEMU's get_ghes_source_offsets walk)."""
    return list(_ghes_targets(read_table(memory, hest_pa)))


@lru_cache(maxsize=64)
def _ghes_targets(table: bytes) -> tuple[GhesTarget, ...]:
    """The GHESv2 sources of these HEST bytes (decoded once per distinct table)."""
    hest = acpi.decode(table)
    return tuple(GhesTarget.from_hest_source(i, s) for i, s in enumerate(hest.sources)
                 if getattr(s, "TYPE", None) == 10 and s.enabled)


class GhesWriter(Component):
    """Writes status blocks into the GHESv2 sources of one HEST ("fw" in the trace).

    ``unacked``: ``"drop"`` (QEMU's behaviour, traced) or ``"queue"`` (kept, oldest first,
    up to ``queue_depth``; re-checked every ``ack_poll_ns`` and written once acked).
    ``notify(target, estatus)`` is called after a queued record is finally written.
    """

    def __init__(self, engine, memory, hest_pa: int, *, unacked: str = "drop", queue_depth: int = 16,
                 ack_poll_ns: int = 1_000_000, notify: Callable[[GhesTarget, cper.Estatus], None] | None = None,
                 name: str = "fw"):
        super().__init__(engine, name)
        if unacked not in ("drop", "queue"):
            raise ValueError(f"unacked must be 'drop' or 'queue', not {unacked!r}")
        self.memory = memory
        self.targets = hest_ghes_targets(memory, hest_pa)
        self.unacked = unacked
        self.queue_depth = queue_depth
        self.ack_poll_ns = ack_poll_ns
        self.notify = notify
        self.queues: dict[int, deque[tuple[cper.Estatus, bytes]]] = {t.source_id: deque() for t in self.targets}
        self._polling: set[int] = set()
        self.written = 0

    def target(self, notify: str) -> GhesTarget | None:
        """The first source with notification type ``notify`` (None if the HEST has none)."""
        return next((t for t in self.targets if t.notify == notify), None)

    # --- read-ack --------------------------------------------------------------------------
    def read_ack(self, t: GhesTarget) -> int:
        return self.memory.read_u64(t.read_ack_register)

    def acked(self, t: GhesTarget) -> bool:
        """The OS has acknowledged the last record: the read_ack_write bits are set."""
        return (self.read_ack(t) >> t.read_ack_bit_offset) & t.read_ack_write == t.read_ack_write

    def clear_ack(self, t: GhesTarget) -> None:
        """Clear the ack bits for the OS to set again (QEMU writes 0)."""
        self._clear_ack(t, self.read_ack(t))

    def _clear_ack(self, t: GhesTarget, v: int) -> None:
        """clear_ack with the register's value ``v`` already read."""
        self.memory.write_u64(t.read_ack_register, v & ~(t.read_ack_write << t.read_ack_bit_offset) & (1 << 64) - 1)

    # --- recording ---------------------------------------------------------------------------
    def ghes_record_cper_errors(self, t: GhesTarget, est: cper.Estatus) -> str:
        """Record ``est`` in source ``t``: ``"written"``, ``"queued"``, ``"dropped"`` or ``"too_big"``."""
        data = est.encode()
        if len(data) > t.error_block_length:
            self.trace("ghes_record_cper_errors", result="too_big", source_id=t.source_id, notify=t.notify,
                       length=len(data), error_block_length=t.error_block_length,
                       message="GHES CPER record is too big")
            return "too_big"
        q = self.queues[t.source_id]
        if q:  # older records first
            self.ghes_drain(t)
            if q:
                return self._unacked(t, est, data)
        ack = self.memory.read_u64(t.read_ack_register)  # read_ack(t)
        if (ack >> t.read_ack_bit_offset) & t.read_ack_write != t.read_ack_write:  # not acked()
            return self._unacked(t, est, data)
        self._write(t, est, data, queued=False, ack=ack)
        return "written"

    def _unacked(self, t: GhesTarget, est: cper.Estatus, data: bytes) -> str:
        q = self.queues[t.source_id]
        ack = self.read_ack(t)
        if self.unacked == "queue" and len(q) < self.queue_depth:
            q.append((est, data))
            self.trace("ghes_record_cper_errors", result="queued", source_id=t.source_id, notify=t.notify,
                       read_ack=ack, queued=len(q), severity=cn.name(cn.SEVERITY_KERNEL, est.block.error_severity),
                       message="OSPM has not acknowledged the previous error: record queued")
            self._arm_poll(t)
            return "queued"
        why = "queue full" if self.unacked == "queue" else "policy drop"
        self.trace("ghes_record_cper_errors", result="dropped", source_id=t.source_id, notify=t.notify,
                   read_ack=ack, reason=why, severity=cn.name(cn.SEVERITY_KERNEL, est.block.error_severity),
                   message="OSPM does not acknowledge previous error, so can not record CPER for current error anymore")
        return "dropped"

    def _write(self, t: GhesTarget, est: cper.Estatus, data: bytes, *, queued: bool,
               ack: int | None = None) -> None:
        """Clear the ack bits and write the block (``ack``: the register, if just read)."""
        if ack is None:
            ack = self.read_ack(t)
        self._clear_ack(t, ack)
        memory = self.memory
        block_pa = memory.read_u64(t.error_status_address)
        memory.write(block_pa, data)
        self.written += 1
        engine = self.engine
        engine.spend("cper_write", self.name)
        engine.trace.emit(engine.now, self.name, "ghes_record_cper_errors", {
            "result": "written", "source_id": t.source_id, "notify": t.notify, "block": block_pa,
            "length": len(data), "read_ack": ack, "queued": queued,
            "severity": _severity_name(est.block.error_severity),
            "sections": [_short_name(e.header.section_type) for e in est.entries]})

    def ghes_drain(self, t: GhesTarget) -> int:
        """Write queued records while the OS has acked; notify each. Returns how many."""
        q = self.queues[t.source_id]
        n = 0
        while q and self.acked(t):
            est, data = q.popleft()
            self._write(t, est, data, queued=True)
            n += 1
            if self.notify is not None:
                self.notify(t, est)
        return n

    def _arm_poll(self, t: GhesTarget) -> None:
        if t.source_id in self._polling:
            return
        self._polling.add(t.source_id)
        self.engine.schedule(self.ack_poll_ns, self._poll, t)

    def _poll(self, t: GhesTarget) -> None:
        """The firmware's timer: re-read the ack register while records wait."""
        self._polling.discard(t.source_id)
        self.ghes_drain(t)
        if self.queues[t.source_id]:
            self._arm_poll(t)
