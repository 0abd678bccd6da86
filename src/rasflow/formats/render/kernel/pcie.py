"""cper.c cper_print_pcie(), as the 6.12 kernel prints it.

The AER lines follow CPER_PCIE_VALID_AER_INFO alone, whatever the section's
severity (the vectors show it for recoverable, corrected and info sections),
and include the correctable status/mask line.
"""

from __future__ import annotations

from ...cper import pcie as p


def _int(v: int) -> int:
    """``%d`` of a u32."""
    return v - (1 << 32) if v >= 1 << 31 else v


def cper_print_pcie(pfx: str, pcie: p.CperSecPcie, gdata) -> list[str]:
    v = pcie.validation_bits
    out = []
    if v & p.CPER_PCIE_VALID_PORT_TYPE:
        name = p.PCIE_PORT_TYPE.get(pcie.port_type, "unknown")
        out.append(f"{pfx}port_type: {_int(pcie.port_type)}, {name}")
    if v & p.CPER_PCIE_VALID_VERSION:
        out.append(f"{pfx}version: {pcie.version_major}.{pcie.version_minor}")
    if v & p.CPER_PCIE_VALID_COMMAND_STATUS:
        out.append(f"{pfx}command: 0x{pcie.command:04x}, status: 0x{pcie.status:04x}")
    if v & p.CPER_PCIE_VALID_DEVICE_ID:
        cc = pcie.class_code
        out += [
            f"{pfx}device_id: {pcie.segment:04x}:{pcie.bus:02x}:{pcie.device:02x}.{pcie.function:x}",
            f"{pfx}slot: {pcie.slot_number}",
            f"{pfx}secondary_bus: 0x{pcie.secondary_bus:02x}",
            f"{pfx}vendor_id: 0x{pcie.vendor_id:04x}, device_id: 0x{pcie.device_id:04x}",
            f"{pfx}class_code: {cc[2]:02x}{cc[1]:02x}{cc[0]:02x}",
        ]
    if v & p.CPER_PCIE_VALID_SERIAL_NUMBER:
        out.append(f"{pfx}serial number: 0x{pcie.serial_number_lower:04x}, 0x{pcie.serial_number_upper:04x}")
    if v & p.CPER_PCIE_VALID_BRIDGE_CONTROL_STATUS:
        out.append(
            f"{pfx}bridge: secondary_status: 0x{pcie.bridge_secondary_status:04x}, control: 0x{pcie.bridge_control:04x}"
        )
    if v & p.CPER_PCIE_VALID_AER_INFO:
        aer = pcie.aer
        out += [
            f"{pfx}aer_cor_status: 0x{aer.cor_status:08x}, aer_cor_mask: 0x{aer.cor_mask:08x}",
            f"{pfx}aer_uncor_status: 0x{aer.uncor_status:08x}, aer_uncor_mask: 0x{aer.uncor_mask:08x}",
            f"{pfx}aer_uncor_severity: 0x{aer.uncor_severity:08x}",
            f"{pfx}TLP Header: " + " ".join(f"{dw:08x}" for dw in aer.header_log),
        ]
    return out
