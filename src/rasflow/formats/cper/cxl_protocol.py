"""CXL Protocol Error Section (UEFI 2.10 N.2.13): struct cper_sec_prot_err and what follows it.

The 116-byte fixed part (drivers/firmware/efi/cper_cxl.h, packed) is followed by
``dvsec_len`` bytes of CXL DVSEC and ``err_len`` bytes of error log (the CXL RAS
Capability Structure, struct cxl_ras_capability_regs); bytes after those are
kept in ``tail``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Flags, Names, layout, u8, u16, u32, u64
from .guids import CPER_SEC_CXL_PROT_ERR

# Validation bits, cper_cxl.c
PROT_ERR_VALID_AGENT_TYPE = 1 << 0
PROT_ERR_VALID_AGENT_ADDRESS = 1 << 1
PROT_ERR_VALID_DEVICE_ID = 1 << 2
PROT_ERR_VALID_SERIAL_NUMBER = 1 << 3
PROT_ERR_VALID_CAPABILITY = 1 << 4
PROT_ERR_VALID_DVSEC = 1 << 5
PROT_ERR_VALID_ERROR_LOG = 1 << 6

PROT_ERR_VALID = {
    0: "agent_type", 1: "agent_address", 2: "device_id", 3: "serial_number",
    4: "capability", 5: "dvsec", 6: "error_log",
}

# CXL Agent Type (UEFI 2.10 N.2.13), cper_cxl.c enum
RCD, RCH_DP, DEVICE, LD, FMLD, RP, DSP, USP = range(8)

# cper_cxl.c prot_err_agent_type_strs[]
PROT_ERR_AGENT_TYPE = {
    RCD: "Restricted CXL Device",
    RCH_DP: "Restricted CXL Host Downstream Port",
    DEVICE: "CXL Device",
    LD: "CXL Logical Device",
    FMLD: "CXL Fabric Manager managed Logical Device",
    RP: "CXL Root Port",
    DSP: "CXL Downstream Switch Port",
    USP: "CXL Upstream Switch Port",
}

CXL_CAP_LEN = 60
CPER_PCIE_SLOT_SHIFT = 3


@layout
class CperSecProtErrHdr:
    """struct cper_sec_prot_err (116 bytes), nested structs flattened.

    ``agent_addr`` is the union: an RCRB base address, or function, device, bus
    and segment (see the properties).
    """

    valid_bits: Annotated[u64, Flags(PROT_ERR_VALID)]
    agent_type: Annotated[u8, Names(PROT_ERR_AGENT_TYPE)]
    reserved: Bytes[7]
    agent_addr: u64
    vendor_id: u16
    device_id: u16
    subsystem_vendor_id: u16
    subsystem_id: u16
    class_code: u16
    slot: u16
    reserved_1: Bytes[4]
    lower_dw: u32
    upper_dw: u32
    capability: Bytes[CXL_CAP_LEN]
    dvsec_len: u16
    err_len: u16
    reserved_2: Bytes[4]

    @property
    def rcrb_base_addr(self) -> int:
        return self.agent_addr

    @property
    def function(self) -> int:
        return self.agent_addr & 0xFF

    @property
    def device(self) -> int:
        return self.agent_addr >> 8 & 0xFF

    @property
    def bus(self) -> int:
        return self.agent_addr >> 16 & 0xFF

    @property
    def segment(self) -> int:
        return self.agent_addr >> 24 & 0xFFFF

    @property
    def dev_serial_num(self) -> int:
        return self.lower_dw | self.upper_dw << 32

    @property
    def slot_number(self) -> int:
        """Physical slot number: slot bits 15:3, as the kernel prints it."""
        return self.slot >> CPER_PCIE_SLOT_SHIFT


@layout
class CxlRasCapabilityRegs:
    """struct cxl_ras_capability_regs (CXL 3.x 8.2.4.16), 88 bytes."""

    uncor_status: u32
    uncor_mask: u32
    uncor_severity: u32
    cor_status: u32
    cor_mask: u32
    cap_control: u32
    header_log: Bytes[64]


_OWN_KEYS = ("dvsec", "err_log", "tail", "cxl_ras")
_DVSEC_LEN_OFF = next(f.offset for f in CperSecProtErrHdr._fields_info if f.name == "dvsec_len")


class CperSecCxlProtErr(NamedTuple):
    """The whole section: fixed part, DVSEC, error log, and any bytes after them."""

    hdr: CperSecProtErrHdr
    dvsec: bytes = b""
    err_log: bytes = b""
    tail: bytes = b""

    GUID = CPER_SEC_CXL_PROT_ERR
    SIZE = CperSecProtErrHdr.SIZE

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecCxlProtErr:
        end = len(buf) if length is None else off + length
        if end > len(buf):
            raise FormatError(f"truncated: length says {length} bytes, have {len(buf) - off}",
                              offset=off, need=end - len(buf))
        if end - off < cls.SIZE:
            raise FormatError(f"section is {end - off} bytes, cper_sec_prot_err needs {cls.SIZE}",
                              offset=off, need=cls.SIZE - (end - off))
        hdr = CperSecProtErrHdr.decode(buf, off)
        pos = off + cls.SIZE
        if pos + hdr.dvsec_len > end:
            raise FormatError(f"dvsec_len {hdr.dvsec_len} overruns the section ({end - pos} bytes left)",
                              path="dvsec_len", offset=off + _DVSEC_LEN_OFF)
        dvsec = bytes(buf[pos : pos + hdr.dvsec_len])
        pos += hdr.dvsec_len
        if pos + hdr.err_len > end:
            raise FormatError(f"err_len {hdr.err_len} overruns the section ({end - pos} bytes left)",
                              path="err_len", offset=off + _DVSEC_LEN_OFF + 2)
        err_log = bytes(buf[pos : pos + hdr.err_len])
        return cls(hdr, dvsec, err_log, bytes(buf[pos + hdr.err_len : end]))

    def encode(self) -> bytes:
        return self.hdr.encode() + self.dvsec + self.err_log + self.tail

    @property
    def nbytes(self) -> int:
        return self.SIZE + len(self.dvsec) + len(self.err_log) + len(self.tail)

    @property
    def cxl_ras(self) -> CxlRasCapabilityRegs | None:
        """The error log as the CXL RAS Capability Structure, when it is long enough."""
        if len(self.err_log) < CxlRasCapabilityRegs.SIZE:
            return None
        return CxlRasCapabilityRegs.decode(self.err_log, 0)

    def to_dict(self) -> dict[str, Any]:
        d = self.hdr.to_dict()
        d["dvsec"] = self.dvsec.hex()
        d["err_log"] = self.err_log.hex()
        ras = self.cxl_ras
        if ras is not None:
            d["cxl_ras"] = ras.to_dict()
        d["tail"] = self.tail.hex()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperSecCxlProtErr:
        """Inverse of to_dict; ``cxl_ras`` is derived from ``err_log`` and ignored here."""
        if not isinstance(d, Mapping):
            raise FormatError("expected an object for CperSecCxlProtErr", path=path)
        hdr = CperSecProtErrHdr.from_dict({k: v for k, v in d.items() if k not in _OWN_KEYS}, path=path)
        parts = [_hex(d, key, path) for key in ("dvsec", "err_log", "tail")]
        for key, data, length in (("dvsec", parts[0], hdr.dvsec_len), ("err_log", parts[1], hdr.err_len)):
            if len(data) != length:
                raise FormatError(f"{key} has {len(data)} bytes but its length field says {length}",
                                  path=_join(path, key))
        return cls(hdr, *parts)

    def check(self) -> list[str]:
        h, out = self.hdr, []
        if h.valid_bits & PROT_ERR_VALID_ERROR_LOG and h.err_len < CxlRasCapabilityRegs.SIZE:
            out.append(f"err_len {h.err_len} is shorter than the CXL RAS capability structure "
                       f"({CxlRasCapabilityRegs.SIZE} bytes): the kernel reads past it")
        return out

    @classmethod
    def strategy(cls):
        """A Hypothesis strategy for consistent sections (lengths match the parts)."""
        from hypothesis import strategies as st

        @st.composite
        def build(draw):
            dvsec = draw(st.binary(max_size=48))
            err_log = draw(st.binary(max_size=96))
            hdr = draw(CperSecProtErrHdr.strategy(dvsec_len=st.just(len(dvsec)), err_len=st.just(len(err_log))))
            return cls(hdr, dvsec, err_log, draw(st.binary(max_size=16)))

        return build()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _hex(d: Mapping[str, Any], key: str, path: str) -> bytes:
    v = d.get(key, "")
    try:
        return bytes.fromhex(v)
    except (TypeError, ValueError):
        raise FormatError("not a hex string", path=_join(path, key)) from None
