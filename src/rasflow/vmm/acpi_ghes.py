"""hw/acpi/ghes.c and ghes_cper.c of the VMM: CPER records into the guest's
``etc/hardware_errors`` through the read-ack protocol, the memory error QEMU builds for an
action-required SIGBUS, QMP ``inject-ghes-v2-error``, and the GED event that tells the guest.
One :class:`AcpiGhes` per VMM (QEMU's AcpiGhesState), which it holds as ``vmm.ghes``."""

from __future__ import annotations

import base64

from ..formats import cper
from ..formats.acpi.qemu import ACPI_GHES_MAX_RAW_DATA_LENGTH
from ..formats.cper.memory import CPER_MEM_VALID_ERROR_TYPE, CPER_MEM_VALID_PA, CperSecMemErr
from ..formats.linux import kvm as uapi

ACPI_HEST_SRC_ID_SYNC, ACPI_HEST_SRC_ID_QMP = 0, 1
GED_INTID = 32 + 9  # QEMU virt: VIRT_ACPI_GED


class AcpiGhes:
    """The guest's GHES sources, as the VMM writes them into guest RAM: ``hw_errors`` is
    the ``etc/hardware_errors`` layout (blocks and read-ack registers) at its guest address."""

    def __init__(self, vmm, hw_errors):
        self.vmm, self.hw_errors = vmm, hw_errors

    def acpi_ghes_memory_errors(self, source_id: int, gpa: int) -> int:
        """A memory CPER (PA + memory error type valid) at ``gpa``, written through the
        read-ack protocol. 0 on success."""
        sec = CperSecMemErr(validation_bits=CPER_MEM_VALID_PA | CPER_MEM_VALID_ERROR_TYPE,
                            physical_addr=gpa)
        est = cper.build_estatus([sec], error_severity=0, revision=0x300)
        return self.ghes_record_cper_errors(est.encode(), source_id)

    def ghes_record_cper_errors(self, data: bytes, source_id: int) -> int:
        vmm = self.vmm
        if len(data) > ACPI_GHES_MAX_RAW_DATA_LENGTH:
            vmm.error_report("GHES CPER record is too big")
            return -1
        ack_gpa = self.hw_errors.read_ack_register_slot(source_id)
        if vmm.read_guest_u64(ack_gpa) == 0:
            vmm.error_report("OSPM does not acknowledge previous error, so can not record CPER "
                             "for current error anymore")
            return -1
        vmm.write_guest(ack_gpa, bytes(8))
        block = self.hw_errors.block_address(source_id)
        vmm.write_guest(block, data)
        if vmm.guest_lifeline is None:
            vmm.trace("cper_record", source_id=source_id, gpa=block, estatus=data)
        else:  # the crossing: the VMM -> guest RAM the guest kernel reads
            vmm.trace("cper_record", source_id=source_id, gpa=block, estatus=data, to=vmm.guest_lifeline)
        return 0

    def inject_ghes_v2_error(self, cper_b64: str) -> dict:
        """QMP inject-ghes-v2-error: base64 of GESB + GEDE + section, on the GPIO source."""
        try:
            data = base64.b64decode(cper_b64, validate=True)
        except ValueError as e:
            return {"error": {"class": "GenericError", "desc": f"invalid base64: {e}"}}
        if self.ghes_record_cper_errors(data, ACPI_HEST_SRC_ID_QMP):
            return {"error": {"class": "GenericError", "desc": self.vmm.log[-1]}}
        self.acpi_send_event()
        return {"return": {}}

    def acpi_send_event(self) -> None:
        """The GED's ACPI_GENERIC_ERROR event: its interrupt line pulsed (KVM_IRQ_LINE); the
        guest's _EVT method notifies the error device (PNP0C33: the HED)."""
        vmm = self.vmm
        vmm.trace("acpi_send_event", event="ACPI_GENERIC_ERROR")
        for level in (1, 0):
            line = uapi.KvmIrqLevel(irq=uapi.KVM_ARM_IRQ_TYPE_SPI << 24 | GED_INTID, level=level)
            vmm.ioctl(vmm.vm_fd, uapi.KVM_IRQ_LINE, line.encode())
