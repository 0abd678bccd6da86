"""CXL Component Event sections (UEFI 2.10 N.2.14), six GUIDs sharing one layout.

A 32-byte header (include/cxl/event.h struct cxl_cper_event_rec ``hdr``:
length, validation bits, device id, serial number) and the CXL component
event log: the CXL event record without its UUID, which the section GUID
implies. The log is kept as bytes; its common event record header (CXL 3.1
8.2.9.2.1, struct cxl_event_record_hdr) is decoded when 32 bytes are present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Flags, Guid, layout, u8, u16, u32, u64
from . import guids as g

# Validation bits (UEFI 2.10 Table N-45)
CPER_CXL_DEVICE_ID_VALID = 1 << 0
CPER_CXL_DEVICE_SN_VALID = 1 << 1
CPER_CXL_COMP_EVENT_LOG_VALID = 1 << 2

CXL_EVENT_VALID = {0: "device_id", 1: "serial_number", 2: "event_log"}

# Section GUID -> the kind of CXL event record it carries
CXL_COMPONENT_EVENTS = {
    g.CPER_SEC_CXL_GEN_MEDIA: "general media",
    g.CPER_SEC_CXL_DRAM: "DRAM",
    g.CPER_SEC_CXL_MEM_MODULE: "memory module",
    g.CPER_SEC_CXL_PHYS_SWITCH: "physical switch",
    g.CPER_SEC_CXL_VIRT_SWITCH: "virtual switch",
    g.CPER_SEC_CXL_MLD_PORT: "MLD port",
}

CPER_PCIE_SLOT_SHIFT = 3


@layout
class CxlCperEventHdr:
    """The section header, 32 bytes (packed; validation_bits sits at offset 4)."""

    length: u32
    validation_bits: Annotated[u64, Flags(CXL_EVENT_VALID)]
    vendor_id: u16
    device_id: u16
    func_num: u8
    device_num: u8
    bus_num: u8
    segment_num: u16
    slot_num: u16
    reserved: u8
    dev_serial_num: u64

    @property
    def slot_number(self) -> int:
        """Physical slot number: slot_num bits 15:3 (bits 2:0 are reserved)."""
        return self.slot_num >> CPER_PCIE_SLOT_SHIFT


@layout
class CxlEventRecordHdr:
    """Common Event Record fields after the UUID (CXL 3.1 Table 8-43), 32 bytes."""

    length: u8
    flags: Bytes[3]
    handle: u16
    related_handle: u16
    timestamp: u64
    maint_op_class: u8
    maint_op_sub_class: u8
    ld_id: u16
    head_id: u8
    reserved: Bytes[11]


class CperSecCxlComponent(NamedTuple):
    """One CXL component event section; ``guid`` says which of the six kinds."""

    guid: Guid
    hdr: CxlCperEventHdr
    event_log: bytes = b""

    SIZE = CxlCperEventHdr.SIZE
    _guid_in_object = True

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None, *, guid: Guid) -> CperSecCxlComponent:
        end = len(buf) if length is None else off + length
        if end > len(buf):
            raise FormatError(f"truncated: length says {length} bytes, have {len(buf) - off}",
                              offset=off, need=end - len(buf))
        if end - off < cls.SIZE:
            raise FormatError(f"section is {end - off} bytes, the CXL event header needs {cls.SIZE}",
                              offset=off, need=cls.SIZE - (end - off))
        return cls(guid, CxlCperEventHdr.decode(buf, off), bytes(buf[off + cls.SIZE : end]))

    def encode(self) -> bytes:
        return self.hdr.encode() + self.event_log

    @property
    def nbytes(self) -> int:
        return self.SIZE + len(self.event_log)

    @property
    def event_kind(self) -> str:
        return CXL_COMPONENT_EVENTS.get(self.guid, "unknown")

    @property
    def record_hdr(self) -> CxlEventRecordHdr | None:
        """The event log's common event record header, when the log is long enough."""
        if len(self.event_log) < CxlEventRecordHdr.SIZE:
            return None
        return CxlEventRecordHdr.decode(self.event_log, 0)

    def to_dict(self) -> dict[str, Any]:
        d = self.hdr.to_dict()
        d["event_log"] = self.event_log.hex()
        rec = self.record_hdr
        if rec is not None:
            d["event_record_hdr"] = rec.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "", guid: Guid) -> CperSecCxlComponent:
        """Inverse of to_dict; ``event_record_hdr`` is derived from ``event_log`` and ignored here."""
        if not isinstance(d, Mapping):
            raise FormatError("expected an object for CperSecCxlComponent", path=path)
        own = ("event_log", "event_record_hdr")
        hdr = CxlCperEventHdr.from_dict({k: v for k, v in d.items() if k not in own}, path=path)
        try:
            log = bytes.fromhex(d.get("event_log", ""))
        except (TypeError, ValueError):
            raise FormatError("not a hex string", path=f"{path}.event_log" if path else "event_log") from None
        return cls(guid, hdr, log)

    def check(self) -> list[str]:
        n = self.hdr.length
        if n < self.SIZE:
            return [f"length {n} is smaller than the CXL event header ({self.SIZE} bytes)"]
        if n != self.nbytes:
            return [f"length {n} but the section is {self.nbytes} bytes"]
        return []

    @classmethod
    def strategy(cls, guid: Guid | None = None):
        """A Hypothesis strategy: random header and log, the guid drawn from the six."""
        from hypothesis import strategies as st

        guids = st.just(guid) if guid is not None else st.sampled_from(list(CXL_COMPONENT_EVENTS))
        return st.builds(cls, guids, CxlCperEventHdr.strategy(), st.binary(max_size=96))
