"""cper_cxl.c cper_print_prot_err(), as Linux 6.12 prints a CXL Protocol Error section.

The kernel always reads a whole struct cxl_ras_capability_regs (88 bytes) after
the DVSEC, whatever ``err_len`` says; past the end of the section it reads
whatever memory follows. Give that memory as ``after`` (in a BERT region, the
next status block); what is not given reads as zeros.
"""

from __future__ import annotations

from ...cper import cxl_protocol as c
from .hexdump import hex_dump_lines

# cper_cxl.c reads the RAS capability registers (88 bytes) after the DVSEC whatever
# err_len says, so a short log reads the memory after the section; it needs only the bytes.
ACCEPTS_RAW_SECTION = True
READS_PAST_SECTION = True

_SBDF_AGENTS = (c.RCD, c.DEVICE, c.LD, c.FMLD, c.RP, c.DSP, c.USP)
_SERIAL_AGENTS = (c.RCD, c.DEVICE, c.LD, c.FMLD)


def cper_print_prot_err(pfx: str, sec, gdata, *, after: bytes = b"") -> list[str]:
    """The lines for one section; ``sec`` is a CperSecCxlProtErr or anything with encode()."""
    data = sec.encode() + after
    hdr = c.CperSecProtErrHdr.decode(data.ljust(c.CperSecProtErrHdr.SIZE, b"\0"), 0)
    v, agent = hdr.valid_bits, hdr.agent_type
    out = []
    if v & c.PROT_ERR_VALID_AGENT_TYPE:
        out.append(f"{pfx} agent_type: {agent}, {c.PROT_ERR_AGENT_TYPE.get(agent, 'unknown')}")
    if v & c.PROT_ERR_VALID_AGENT_ADDRESS:
        if agent in _SBDF_AGENTS:
            out.append(f"{pfx} agent_address: {hdr.segment:04x}:{hdr.bus:02x}:{hdr.device:02x}.{hdr.function:x}")
        elif agent == c.RCH_DP:
            out.append(f"{pfx} rcrb_base_address: 0x{hdr.rcrb_base_addr:016x}")
    if v & c.PROT_ERR_VALID_DEVICE_ID and agent in _SBDF_AGENTS:
        out.append(f"{pfx} slot: {hdr.slot_number}")
        out.append(f"{pfx} vendor_id: 0x{hdr.vendor_id:04x}, device_id: 0x{hdr.device_id:04x}")
        out.append(f"{pfx} sub_vendor_id: 0x{hdr.subsystem_vendor_id:04x}, sub_device_id: 0x{hdr.subsystem_id:04x}")
        out.append(f"{pfx} class_code: {hdr.class_code:04x}")
    if v & c.PROT_ERR_VALID_SERIAL_NUMBER and agent in _SERIAL_AGENTS:
        out.append(f"{pfx} lower_dw: 0x{hdr.lower_dw:08x}, upper_dw: 0x{hdr.upper_dw:08x}")
    if v & c.PROT_ERR_VALID_CAPABILITY and agent in _SBDF_AGENTS:
        out += hex_dump_lines(pfx, hdr.capability)
    pos = c.CperSecProtErrHdr.SIZE
    if v & c.PROT_ERR_VALID_DVSEC:
        out.append(f"{pfx} DVSEC length: 0x{hdr.dvsec_len:04x}")
        out.append(f"{pfx} CXL DVSEC:")
        out += hex_dump_lines(pfx, _read(data, pos, hdr.dvsec_len))
    if v & c.PROT_ERR_VALID_ERROR_LOG:
        pos += hdr.dvsec_len
        ras = c.CxlRasCapabilityRegs.decode(_read(data, pos, c.CxlRasCapabilityRegs.SIZE), 0)
        out.append(f"{pfx} Error log length: 0x{hdr.err_len:04x}")
        out.append(f"{pfx} CXL Error Log:")
        out.append(f"{pfx} cxl_ras_uncor_status: 0x{ras.uncor_status:08x}")
        out.append(f"{pfx} cxl_ras_uncor_mask: 0x{ras.uncor_mask:08x}")
        out.append(f"{pfx} cxl_ras_uncor_severity: 0x{ras.uncor_severity:08x}")
        out.append(f"{pfx} cxl_ras_cor_status: 0x{ras.cor_status:08x}")
        out.append(f"{pfx} cxl_ras_cor_mask: 0x{ras.cor_mask:08x}")
        out.append(f"{pfx} cap_control: 0x{ras.cap_control:08x}")
        out.append(f"{pfx} Header Log Registers:")
        out += hex_dump_lines(pfx, ras.header_log)
    return out


def _read(data: bytes, pos: int, size: int) -> bytes:
    """``size`` bytes at ``pos``, zeros past what we know (the kernel reads on)."""
    return data[pos : pos + size].ljust(size, b"\0")
