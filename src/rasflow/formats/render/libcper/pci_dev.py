"""libcper's JSON for the PCI/PCI-X Component Error section (cper-section-pci-dev.c).

libcper writes the register pairs it is given whatever the counts say, and
reads back ``memoryNumber + ioNumber`` pairs; a count whose validation bit is
off is absent from its JSON and written as zero, so its own round trip drops
pairs. Here an absent count is set to what makes the given pairs read back
(e.g. ``ioNumber = len(registerDataPairs) - memoryNumber``); it is not in the
JSON either way, and the pairs then survive JSON -> bytes -> JSON.
"""

from __future__ import annotations

from typing import Any

from ...cper import pci_dev as pd
from ...errors import FormatError
from ...layout import Guid
from .common import error_status_from_ir, error_status_to_ir, get, get_int

MESSAGE = "A PCI/PCI-X Device Error occurred"

# (JSON key, field, bits)
_ID_INFO = (
    ("vendorID", "vendor_id", 16), ("deviceID", "device_id", 16), ("classCode", "class_code", 24),
    ("functionNumber", "function", 8), ("deviceNumber", "device", 8), ("busNumber", "bus", 8),
    ("segmentNumber", "segment", 8),
)


def to_ir(sec: pd.CperSecPciDev) -> dict[str, Any]:
    h = sec.header
    v = h.validation_bits
    d: dict[str, Any] = {}
    if v & pd.CPER_PCI_DEV_VALID_ERROR_STATUS:
        d["errorStatus"] = error_status_to_ir(h.error_status)
    if v & pd.CPER_PCI_DEV_VALID_ID_INFO:
        d["idInfo"] = {
            key: h.class_code_value if field == "class_code" else getattr(h, field) for key, field, _ in _ID_INFO
        }
    if v & pd.CPER_PCI_DEV_VALID_MEMORY_NUMBER:
        d["memoryNumber"] = h.memory_number
    if v & pd.CPER_PCI_DEV_VALID_IO_NUMBER:
        d["ioNumber"] = h.io_number
    if v & pd.CPER_PCI_DEV_VALID_REGISTER_DATA_PAIR:
        d["registerDataPairs"] = [{"firstHalf": r.address, "secondHalf": r.value} for r in sec.registers]
    return {"message": MESSAGE, "PciComponent": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> pd.CperSecPciDev:
    path = "PciComponent"
    d = get(obj, "PciComponent", "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    v = 0
    f: dict[str, Any] = {}
    if "errorStatus" in d:
        f["error_status"] = error_status_from_ir(d["errorStatus"], f"{path}.errorStatus")
        v |= pd.CPER_PCI_DEV_VALID_ERROR_STATUS
    if "idInfo" in d:
        ip = f"{path}.idInfo"
        for key, field, bits in _ID_INFO:
            f[field] = get_int(d["idInfo"], key, ip, bits=bits)
        f["class_code"] = f["class_code"].to_bytes(3, "little")
        v |= pd.CPER_PCI_DEV_VALID_ID_INFO
    mem = io = None
    if "memoryNumber" in d:
        mem = get_int(d, "memoryNumber", path, bits=32)
        v |= pd.CPER_PCI_DEV_VALID_MEMORY_NUMBER
    if "ioNumber" in d:
        io = get_int(d, "ioNumber", path, bits=32)
        v |= pd.CPER_PCI_DEV_VALID_IO_NUMBER
    registers: tuple[pd.CperPciDevRegister, ...] = ()
    if "registerDataPairs" in d:
        registers = _pairs(d["registerDataPairs"], f"{path}.registerDataPairs")
        v |= pd.CPER_PCI_DEV_VALID_REGISTER_DATA_PAIR
        n = len(registers)
        if mem is None and io is None:
            mem = n
        elif mem is None:
            mem = max(n - io, 0)
        elif io is None:
            io = max(n - mem, 0)
    header = pd.CperSecPciDevHeader(validation_bits=v, memory_number=mem or 0, io_number=io or 0, **f)
    return pd.CperSecPciDev(header, registers)


def _pairs(pairs: Any, path: str) -> tuple[pd.CperPciDevRegister, ...]:
    if not isinstance(pairs, list):
        raise FormatError("expected a list", path=path)
    return tuple(
        pd.CperPciDevRegister(
            address=get_int(pair, "firstHalf", f"{path}[{i}]"), value=get_int(pair, "secondHalf", f"{path}[{i}]")
        )
        for i, pair in enumerate(pairs)
    )
