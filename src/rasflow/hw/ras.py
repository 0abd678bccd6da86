"""RAS error nodes: standard error records ERR<n>FR/CTLR/STATUS/ADDR/MISC0/MISC1.

A node (a memory controller, a PE's caches and TLBs, the interconnect) holds one or more
records. The hardware writes a record when it detects or is told of an error
(:meth:`ErrorNode.record_error`); software reads and clears records only through register
reads and writes (:meth:`read`, :meth:`write`, :meth:`write_status`), as TF-A does through
ERRSELR_EL1/ERX*_EL1 or the memory-mapped view (:meth:`mmio_read`).

Rules modelled (Arm RAS System Architecture, reference sheet section 1):

- ERR<n>STATUS is write-1-to-clear for AV, V, UE, ER, OF, MV, CE, DE, PN, UET and CI; a
  multi-bit field (CE, UET) is cleared by writing any 1 into it. A write that would clear
  V is ignored while the record holds an error the written value does not name (OF, UE,
  DE or CE set in the record but written as 0): "writing back the value read clears the
  record unless a newer, higher-priority error arrived" (TF-A ras_arch.h).
- Overwrite priority: UE > DE > CE. A new error of lower or equal priority than the
  syndrome already recorded is discarded and sets OF; a higher-priority one replaces the
  syndrome (CE stays as a cumulative flag).
- Corrected errors count in ERR<n>MISC0.CEC (form chosen by ERR<n>FR.CEC); an increment
  past the maximum wraps to zero and sets MISC0.OF and STATUS.OF.
- ERR<n>CTLR.ED = 0 disables detection: nothing is recorded.

Every bit position comes from the declarations in :mod:`rasflow.formats.arm.ras`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

from ..formats.arm.names import SERR_NAMES, UET_NAMES
from ..formats.arm.ras import (
    ERR_ADDR,
    ERR_CTLR,
    ERR_FR,
    ERR_RECORD_OFFSETS,
    ERR_RECORD_STRIDE,
    ERR_STATUS,
    ERRDEVID,
    ERRDEVID_OFFSET,
    ERRGSR_OFFSET,
    misc0_layout,
)

KINDS = ("memory", "cache", "tlb", "bus")
_KIND_SET = frozenset(KINDS)
REGISTERS = ("FR", "CTLR", "STATUS", "ADDR", "MISC0", "MISC1")

UET = {name[name.index("(") + 1:-1]: code for code, name in UET_NAMES.items()}
"""Short name -> ERR<n>STATUS.UET code: UC, UEU, UEO, UER."""

SERR = {
    "memory": 0x0C,  # Data value from (non-associative) external memory (DRAM)
    "cache": 0x06,  # Data value from associative memory
    "tlb": 0x08,  # Data value from a TLB
    "bus": 0x12,  # Error response from slave
}
"""The SERR code each kind of record uses for a data error (names: formats.arm.names)."""
assert all(code in SERR_NAMES for code in SERR.values())


def _mask(reg, name: str) -> int:
    f = reg.by_name[name]
    return f.max << f.lsb


# ERR<n>STATUS fields as masks and shifts, built once from the declaration.
_ST = ERR_STATUS.by_name
_V, _AV, _UE, _ER, _OF, _MV, _DE, _PN = (
    _mask(ERR_STATUS, n) for n in ("V", "AV", "UE", "ER", "OF", "MV", "DE", "PN"))
_CE_MASK, _UET_MASK = _mask(ERR_STATUS, "CE"), _mask(ERR_STATUS, "UET")
_CE_NONSPECIFIC = ERR_STATUS.encode(CE=0b10)
_W1C = [_mask(ERR_STATUS, n) for n in ("AV", "V", "UE", "ER", "OF", "MV", "CE", "DE", "PN",
                                       "UET", "CI")]
_W1C_BITS = sum(m for m in _W1C if m & (m - 1) == 0)  # one-bit fields: clear what is written
_W1C_FIELDS = tuple(m for m in _W1C if m & (m - 1))  # multi-bit: any 1 clears the field
_SYNDROME = _mask(ERR_STATUS, "IERR") | _mask(ERR_STATUS, "SERR")
_NEWER_BITS = _OF | _UE | _DE  # one-bit fields: set in the record, clear in the value written
_ADDR_NS = ERR_ADDR.encode(NS=1)
_PADDR_MAX = ERR_ADDR.by_name["PADDR"].max
_CTLR_ED = _mask(ERR_CTLR, "ED")

_FEAT_ALWAYS = 0b10  # ERR<n>FR feature field: implemented, always enabled
_FR_CEC16 = 0b100


@cache
def default_fr(kind: str) -> int:
    """ERR<n>FR of a record of this kind: detection, UE/DE/CE recording, interrupts;
    a 16-bit corrected error counter for memory and caches."""
    counter = kind in ("memory", "cache")
    return ERR_FR.encode(
        ED=_FEAT_ALWAYS, UI=_FEAT_ALWAYS, FI=_FEAT_ALWAYS, UE=_FEAT_ALWAYS,
        CFI=_FEAT_ALWAYS if counter else 0, DUI=_FEAT_ALWAYS,
        CEC=_FR_CEC16 if counter else 0, FRX=1, UC=1, UEU=1, UER=1, UEO=1, DE=1, CE=0b01)


DEFAULT_CTLR = ERR_CTLR.encode(ED=1, UI=1, FI=1, UE=1, CFI=1, DUI=1)
"""ERR<n>CTLR at reset in this model: detection and every interrupt enabled."""


@cache
def _records_reset(record_kinds: tuple[str, ...]) -> tuple[tuple[int, ...], tuple]:
    """ERR<n>FR of each record, and its corrected error counter as (shift, max, counter OF
    mask) or None (the MISC0 form FR selects): constants of the record kinds."""
    frs = tuple(default_fr(k) for k in record_kinds)
    cecs = []
    for fr in frs:
        lay = misc0_layout(fr)
        f = lay.by_name.get("CEC")
        cecs.append(None if f is None else (f.lsb, f.max, _mask(lay, "OF")))
    return frs, tuple(cecs)


class ErrorNode:
    """A RAS error node: ``records`` standard error records of one ``kind``
    (or one kind per record with ``record_kinds``)."""

    def __init__(self, name: str, records: int, *, kind: str = "memory",
                 record_kinds: Sequence[str] | None = None, intid: int | None = None):
        if kind not in KINDS:
            raise ValueError(f"error node kind {kind!r}: one of {', '.join(KINDS)}")
        if not 1 <= records <= ERRGSR_OFFSET // ERR_RECORD_STRIDE:
            raise ValueError(f"{name}: {records} records do not fit a 4 KiB node")
        self.name, self.kind, self.intid = name, kind, intid
        self.record_kinds = tuple(record_kinds or (kind,) * records)
        if len(self.record_kinds) != records or not _KIND_SET.issuperset(self.record_kinds):
            raise ValueError(f"{name}: record_kinds must name one kind per record")
        frs, cecs = _records_reset(self.record_kinds)
        self.fr = list(frs)
        self.ctlr = [DEFAULT_CTLR] * records
        self.status = [0] * records
        self.addr = [0] * records
        self.misc0 = [0] * records
        self.misc1 = [0] * records
        self._cec = list(cecs)  # per record: (shift, max, counter OF mask) or None

    def __repr__(self) -> str:
        return f"ErrorNode({self.name!r}, {self.num_records} records, kind={self.kind!r})"

    @property
    def num_records(self) -> int:
        return len(self.status)

    def record_kind(self, n: int) -> str:
        return self.record_kinds[n]

    # --- software's view: register reads and writes --------------------------------
    def read(self, n: int, reg: str) -> int:
        """ERR<n><reg> (FR, CTLR, STATUS, ADDR, MISC0, MISC1)."""
        return getattr(self, reg.lower())[n]

    def read_record(self, n: int) -> tuple[int, int, int, int, int]:
        """ERR<n>FR, CTLR, STATUS, ADDR and MISC0: the registers a probe reads, in one call."""
        return self.fr[n], self.ctlr[n], self.status[n], self.addr[n], self.misc0[n]

    def write(self, n: int, reg: str, value: int) -> None:
        """Write ERR<n><reg>: STATUS is write-1-to-clear, FR is read-only."""
        reg = reg.upper()
        if reg == "STATUS":
            self.write_status(n, value)
        elif reg != "FR":
            getattr(self, reg.lower())[n] = value

    def read_status(self, n: int) -> int:
        return self.status[n]

    def write_status(self, n: int, value: int) -> None:
        """W1C write of ERR<n>STATUS (see the module docstring for the ignore rule)."""
        status = self.status
        status[n] = _status_written(status[n], value)

    def valid_records(self) -> list[int]:
        """Indexes of the records whose STATUS.V is set."""
        status = self.status
        for value in status:  # usually none is valid: no list to build
            if value & _V:
                return [n for n, s in enumerate(status) if s & _V]
        return []

    # --- memory-mapped view (4 KiB node: records at 64*n, ERRGSR, ERRDEVID) -----------
    def mmio_read(self, offset: int) -> int:
        if offset == ERRDEVID_OFFSET:
            return ERRDEVID.encode(NUM=self.num_records)
        if ERRGSR_OFFSET <= offset < ERRGSR_OFFSET + 8 * ((self.num_records + 63) // 64):
            first = (offset - ERRGSR_OFFSET) // 8 * 64
            return sum(1 << (n - first) for n in self.valid_records() if first <= n < first + 64)
        n, reg = self._decode_offset(offset)
        return 0 if reg is None else self.read(n, reg)

    def mmio_write(self, offset: int, value: int) -> None:
        n, reg = self._decode_offset(offset)
        if reg is not None:
            self.write(n, reg, value)

    def _decode_offset(self, offset: int) -> tuple[int, str | None]:
        n, off = divmod(offset, ERR_RECORD_STRIDE)
        if n >= self.num_records or offset >= ERRGSR_OFFSET:
            return 0, None
        for reg, o in ERR_RECORD_OFFSETS.items():
            if o == off and reg in REGISTERS:
                return n, reg
        return 0, None

    # --- the hardware's view: recording errors ------------------------------------
    def record_error(self, n: int, *, ue: bool, pa: int | None = None, serr: int,
                     uet: str | int = "UER", ce: bool = False, de: bool = False,
                     pn: bool = False, er: bool = False, mv: bool = False,
                     misc1: int | None = None, ierr: int = 0, ns: bool = True) -> int:
        """Record an error in record ``n``; returns the new ERR<n>STATUS.

        ``ue``: uncorrected (with ``uet`` UC/UEU/UEO/UER); ``de``: deferred (e.g. poison
        written by a scrubber); ``ce``: corrected (counted in MISC0 if the record has a
        counter). ``pa``: the physical address (sets AV and ERR<n>ADDR). ``er``: the error
        was reported to a requester as an External abort. ``pn``: poison consumed.
        """
        if not self.ctlr[n] & _CTLR_ED:
            return self.status[n]
        if ce and not ue and not de:
            self._count_corrected(n)
        old = self.status[n]
        new_pri = 3 if ue else 2 if de else 1 if ce else 0
        if old & _V:
            old_pri = 3 if old & _UE else 2 if old & _DE else 1 if old & _CE_MASK else 0
            if new_pri <= old_pri:  # the record keeps its syndrome
                if new_pri == 1:
                    old |= 0 if old & _CE_MASK else _CE_NONSPECIFIC
                    if self._cec[n] is not None or new_pri < old_pri:
                        self.status[n] = old  # counted in MISC0, not discarded
                        return old
                self.status[n] = old | _OF  # a syndrome was discarded
                return self.status[n]
        value = _status(ue, de, ce, uet if isinstance(uet, int) else UET[uet],
                         pa is not None, er, pn, mv or misc1 is not None, serr, ierr)
        value |= old & (_CE_MASK | _OF) if old & _V else 0
        self.status[n] = value
        if pa is not None:
            self.addr[n] = (_ADDR_NS if ns else 0) | (pa & _PADDR_MAX)
        if misc1 is not None:
            self.misc1[n] = misc1
        return value

    def _count_corrected(self, n: int) -> bool:
        """Increment ERR<n>MISC0's corrected error counter; True when it overflowed."""
        cec = self._cec[n]
        if cec is None:
            return False
        shift, cmax, of = cec
        misc = self.misc0[n]
        count = (misc >> shift) & cmax
        if count == cmax:
            self.misc0[n] = (misc & ~(cmax << shift)) | of
            self.status[n] |= _OF
            return True
        self.misc0[n] = (misc & ~(cmax << shift)) | (count + 1) << shift
        return False

    def corrected_count(self, n: int) -> tuple[int, bool]:
        """(ERR<n>MISC0.CEC, ERR<n>MISC0.OF) of record ``n`` ((0, False) without a counter)."""
        cec = self._cec[n]
        if cec is None:
            return 0, False
        shift, cmax, of = cec
        return (self.misc0[n] >> shift) & cmax, bool(self.misc0[n] & of)

    def set_corrected_count(self, n: int, count: int) -> None:
        """What firmware does to set a threshold: preload ERR<n>MISC0.CEC (clears OF)."""
        cec = self._cec[n]
        if cec is None:
            raise ValueError(f"{self.name} record {n} has no corrected error counter")
        shift, cmax, of = cec
        if not 0 <= count <= cmax:
            raise ValueError(f"counter value {count} does not fit")
        self.misc0[n] = (self.misc0[n] & ~((cmax << shift) | of)) | count << shift


@lru_cache(maxsize=1024)
def _status_written(old: int, value: int) -> int:
    """ERR<n>STATUS after software writes ``value`` over ``old`` (pure, memoised: a handler
    writes back the few values it read)."""
    if value & _V and old & _V and (old & ~value & _NEWER_BITS
                                    or (old & _CE_MASK and not value & _CE_MASK)):
        return old  # a newer error the writer has not seen (OF, UE, DE or CE): keep the record
    clear = value & _W1C_BITS
    for m in _W1C_FIELDS:
        if value & m:
            clear |= m
    new = old & ~clear
    if not new & _V:
        new &= ~_SYNDROME
    return new


_STATUS_CACHE: dict[tuple, int] = {}


def _status(ue, de, ce, uet, av, er, pn, mv, serr, ierr) -> int:
    """ERR<n>STATUS for a fresh syndrome, encoded once per combination."""
    key = (ue, de, ce, uet, av, er, pn, mv, serr, ierr)
    v = _STATUS_CACHE.get(key)
    if v is None:
        v = _STATUS_CACHE[key] = ERR_STATUS.encode(
            V=1, AV=int(av), UE=int(ue), ER=int(er), MV=int(mv), CE=0b10 if ce else 0,
            DE=int(de), PN=int(pn), UET=uet if ue else 0, IERR=ierr, SERR=serr)
    return v
