"""GUIDs of UEFI CPER (Appendix N): section types, notification types, creators.

Names follow include/linux/cper.h (``CPER_SEC_*``, ``CPER_NOTIFY_*``).
"""

from __future__ import annotations

from ..layout import Guid

# Section types (UEFI 2.10 N.2.2; CXL from CXL 3.x; ARM RAS node from libcper)
CPER_SEC_PROC_GENERIC = Guid("9876ccad-47b4-4bdb-b65e-16f193c4f3db")
CPER_SEC_PROC_IA = Guid("dc3ea0b0-a144-4797-b95b-53fa242b6e1d")
CPER_SEC_PROC_IPF = Guid("e429faf1-3cb7-11d4-bca7-0080c73c8881")
CPER_SEC_PROC_ARM = Guid("e19e3d16-bc11-11e4-9caa-c2051d5d46b0")
CPER_SEC_ARM_RAS = Guid("bf32d4d5-b427-4025-8495-8a9e5d4030e4")
CPER_SEC_PLATFORM_MEM = Guid("a5bc1114-6f64-4ede-b863-3e83ed7c83b1")
CPER_SEC_PLATFORM_MEM2 = Guid("61ec04fc-48e6-d813-25c9-8daa44750b12")
CPER_SEC_PCIE = Guid("d995e954-bbc1-430f-ad91-b44dcb3c6f35")
CPER_SEC_FW_ERR_REC_REF = Guid("81212a96-09ed-4996-9471-8d729c8e69ed")
CPER_SEC_PCI_X_BUS = Guid("c5753963-3b84-4095-bf78-eddad3f9c9dd")
CPER_SEC_PCI_DEV = Guid("eb5e4685-ca66-4769-b6a2-26068b001326")
CPER_SEC_DMAR_GENERIC = Guid("5b51fef7-c79d-4434-8f1b-aa62de3e2c64")
CPER_SEC_DMAR_VTD = Guid("71761d37-32b2-45cd-a7d0-b0fedd93e8cf")
CPER_SEC_DMAR_IOMMU = Guid("036f84e1-7f37-428c-a79e-575fdfaa84ec")
CPER_SEC_CCIX_PER = Guid("91335ef6-ebfb-4478-a6a6-88b728cf75d7")
CPER_SEC_CXL_PROT_ERR = Guid("80b9efb4-52b5-4de3-a777-68784b771048")
CPER_SEC_CXL_GEN_MEDIA = Guid("fbcd0a77-c260-417f-85a9-088b1621eba6")
CPER_SEC_CXL_DRAM = Guid("601dcbb3-9c06-4eab-b8af-4e9bfb5c9624")
CPER_SEC_CXL_MEM_MODULE = Guid("fe927475-dd59-4339-a586-79bab113b774")
CPER_SEC_CXL_PHYS_SWITCH = Guid("77cf9271-9c02-470b-9fe4-bc7b75f2da97")
CPER_SEC_CXL_VIRT_SWITCH = Guid("40d26425-3396-4c4d-a5da-3d47263af425")
CPER_SEC_CXL_MLD_PORT = Guid("8dc44363-0c96-4710-b7bf-04bb99534c3f")
CPER_SEC_NVIDIA = Guid("6d5244f2-2712-11ec-bea7-cb3fdb95c786")
CPER_SEC_NVIDIA_EVENT = Guid("9068e568-6ca0-11f0-aeaf-159343591eac")

# Notification types (record header notification_type)
CPER_NOTIFY_CMC = Guid("2dce8bb1-bdd7-450e-b9ad-9cf4ebd4f890")
CPER_NOTIFY_CPE = Guid("4e292f96-d843-4a55-a8c2-d481f27ebeee")
CPER_NOTIFY_MCE = Guid("e8f56ffe-919c-4cc5-ba88-65abe14913bb")
CPER_NOTIFY_PCIE = Guid("cf93c01f-1a16-4dfc-b8bc-9c4daf67c104")
CPER_NOTIFY_INIT = Guid("cc5263e8-9308-454a-89d0-340bd39bc98e")
CPER_NOTIFY_NMI = Guid("5bad89ff-b7e6-42c9-814a-cf2485d6e98a")
CPER_NOTIFY_BOOT = Guid("3d61a466-ab40-409a-a698-f362d464b38f")
CPER_NOTIFY_DMAR = Guid("667dd791-c6b3-4c27-8a6b-0f8e722deb41")
CPER_NOTIFY_SEA = Guid("9a78788a-bbe8-11e4-809e-67611e5d46b0")
CPER_NOTIFY_SEI = Guid("5c284c81-b0ae-4e87-a322-b04c85624323")
CPER_NOTIFY_PEI = Guid("09a9d5ac-5204-4214-96e5-94992e752bcd")
CPER_NOTIFY_CXL = Guid("69293bc9-41df-49a3-b4bd-4fb0db3041f6")

NOTIFY_NAMES: dict[bytes, str] = {
    CPER_NOTIFY_CMC: "CMC",
    CPER_NOTIFY_CPE: "CPE",
    CPER_NOTIFY_MCE: "MCE",
    CPER_NOTIFY_PCIE: "PCIe",
    CPER_NOTIFY_INIT: "INIT",
    CPER_NOTIFY_NMI: "NMI",
    CPER_NOTIFY_BOOT: "Boot",
    CPER_NOTIFY_DMAR: "DMAr",
    CPER_NOTIFY_SEA: "SEA",
    CPER_NOTIFY_SEI: "SEI",
    CPER_NOTIFY_PEI: "PEI",
    CPER_NOTIFY_CXL: "CXL Component",
}

# UEFI 2.10 Appendix N names of the section types, for text output
SECTION_NAMES: dict[bytes, str] = {
    CPER_SEC_PROC_GENERIC: "Processor Generic",
    CPER_SEC_PROC_IA: "IA32/X64 Processor",
    CPER_SEC_PROC_IPF: "IPF Processor",
    CPER_SEC_PROC_ARM: "ARM Processor",
    CPER_SEC_ARM_RAS: "ARM RAS Node",
    CPER_SEC_PLATFORM_MEM: "Platform Memory",
    CPER_SEC_PLATFORM_MEM2: "Platform Memory 2",
    CPER_SEC_PCIE: "PCI Express",
    CPER_SEC_FW_ERR_REC_REF: "Firmware Error Record Reference",
    CPER_SEC_PCI_X_BUS: "PCI/PCI-X Bus",
    CPER_SEC_PCI_DEV: "PCI Component/Device",
    CPER_SEC_DMAR_GENERIC: "DMAr Generic",
    CPER_SEC_DMAR_VTD: "Intel VT for Directed I/O DMAr",
    CPER_SEC_DMAR_IOMMU: "IOMMU DMAr",
    CPER_SEC_CCIX_PER: "CCIX PER Log",
    CPER_SEC_CXL_PROT_ERR: "CXL Protocol Error",
    CPER_SEC_CXL_GEN_MEDIA: "CXL General Media Event",
    CPER_SEC_CXL_DRAM: "CXL DRAM Event",
    CPER_SEC_CXL_MEM_MODULE: "CXL Memory Module Event",
    CPER_SEC_CXL_PHYS_SWITCH: "CXL Physical Switch Event",
    CPER_SEC_CXL_VIRT_SWITCH: "CXL Virtual Switch Event",
    CPER_SEC_CXL_MLD_PORT: "CXL MLD Port Event",
    CPER_SEC_NVIDIA: "NVIDIA",
    CPER_SEC_NVIDIA_EVENT: "NVIDIA Event",
}
# every GUID a record names that has a name: section types and notification types
GUID_NAMES: dict[str, str] = {str(Guid(k)): v for k, v in (SECTION_NAMES | {k: f"{v} notification" for k, v in
                                                                             NOTIFY_NAMES.items()}).items()}
