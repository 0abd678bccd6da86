"""The pure parts of ghes.c on status-block bytes: ghes_severity, cper_estatus_len,
cper_estatus_check_header/cper_estatus_check, and the estatus cache and rate limits."""

from __future__ import annotations

import struct

from ...formats.cper import names as cn

GHES_SEV_NO, GHES_SEV_CORRECTED, GHES_SEV_RECOVERABLE, GHES_SEV_PANIC = range(4)
HEADER = struct.Struct("<IIIII")  # block_status, raw_data_offset, raw_data_length, data_length, error_severity
HEADER_SIZE = HEADER.size
GDATA_SIZE, GDATA_V300_SIZE = 64, 72
GHES_ESTATUS_CACHES_SIZE = 4
GHES_ESTATUS_IN_CACHE_MAX_NSEC = 10_000_000_000
NSEC_PER_SEC = 1_000_000_000
_GDATA_REVISION_LENGTH = struct.Struct("<HxxI")  # a gdata's revision and error_data_length, at +20


_GHES_SEVERITY = {cn.CPER_SEV_INFORMATIONAL: GHES_SEV_NO, cn.CPER_SEV_CORRECTED: GHES_SEV_CORRECTED,
                  cn.CPER_SEV_RECOVERABLE: GHES_SEV_RECOVERABLE, cn.CPER_SEV_FATAL: GHES_SEV_PANIC}


def ghes_severity(severity: int) -> int:
    return _GHES_SEVERITY.get(severity, GHES_SEV_PANIC)


def cper_estatus_len(hdr: tuple) -> int:
    _, raw_off, raw_len, data_len, _ = hdr
    return raw_off + raw_len if raw_len else HEADER_SIZE + data_len


def cper_estatus_check_header(hdr: tuple) -> int:
    _, raw_off, raw_len, data_len, _ = hdr
    if data_len and data_len < GDATA_SIZE:
        return -22
    if raw_len and raw_off < HEADER_SIZE + data_len:
        return -22
    return 0


def cper_estatus_check(buf: bytes) -> int:
    """Walk the generic data entries by their own lengths (apei_estatus_for_each_section)."""
    hdr = HEADER.unpack_from(buf, 0)
    if cper_estatus_check_header(hdr):
        return -22
    data_len = hdr[3]
    off = HEADER_SIZE
    while data_len >= GDATA_SIZE:
        if off + GDATA_SIZE > len(buf):
            return -22
        revision, error_data_length = _GDATA_REVISION_LENGTH.unpack_from(buf, off + 20)
        size = GDATA_V300_SIZE if revision >> 8 >= 3 else GDATA_SIZE
        record = size + error_data_length  # acpi_hest_get_record_size()
        if size > data_len or record > data_len:
            return -22
        data_len -= record
        off += record
    return -22 if data_len else 0


class Ratelimit:
    """struct ratelimit_state: at most ``burst`` in every ``interval`` ns."""

    def __init__(self, interval: int, burst: int):
        self.interval, self.burst = interval, burst
        self.begin: int | None = None
        self.printed = 0
        self.missed = 0

    def __call__(self, now: int) -> bool:
        if self.begin is None or now - self.begin >= self.interval:
            self.begin, self.printed = now, 0
        if self.printed < self.burst:
            self.printed += 1
            return True
        self.missed += 1
        return False


class EstatusCache:
    """ghes_estatus_caches[]: the last few printed blocks; an identical one within 10 s is
    not reported again."""

    def __init__(self, size: int = GHES_ESTATUS_CACHES_SIZE,
                 max_age: int = GHES_ESTATUS_IN_CACHE_MAX_NSEC):
        self.size, self.max_age = size, max_age
        self.slots: list[list | None] = [None] * size  # [bytes, time, count]

    def cached(self, estatus: bytes, now: int) -> bool:
        for slot in self.slots:
            if slot is not None and slot[0] == estatus and now - slot[1] < self.max_age:
                slot[2] += 1
                return True
        return False

    def add(self, estatus: bytes, now: int) -> None:
        """ghes_estatus_cache_add(): an empty or expired slot, else the one with the longest
        age / (hits + 1)."""
        slot, max_period = 0, -1
        for i, c in enumerate(self.slots):
            if c is None or now - c[1] >= self.max_age:
                slot = i
                break
            period = (now - c[1]) // (c[2] + 1)
            if period > max_period:
                max_period, slot = period, i
        self.slots[slot] = [estatus, now, 0]
