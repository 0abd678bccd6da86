"""One ``Error N`` entry of a kernel log: its lines back into a section and entry header.

Used by ``dmesg.read_dmesg``; each printer of formats/render/kernel is inverted here,
the ARM and CXL ones in _dmesg_arm_cxl.py (mixed into ``SectionParser``).
"""

from __future__ import annotations

import re
from typing import Any

from ..formats.cper import firmware as fw
from ..formats.cper import memory as m_
from ..formats.cper import names as n
from ..formats.cper import pcie as pc
from ..formats.cper import proc_generic as pg
from ..formats.cper.sections import RawSection, decode_section, section_class
from ..formats.errors import FormatError
from ..formats.layout import Guid
from ..formats.render.kernel import IGNORE_SECTIONS, KERNEL_SECTIONS
from ._dmesg_arm_cxl import ArmCxlFeeds

MAX_FILL = 4 << 10  # zeros supplied for hexdump rows a log lacks (a few dropped rows, not a claimed length)
_HEX = re.compile(r"([0-9a-f]{8}): ((?:[0-9a-f]{2,16}(?: |$))+)")
_MEM_LOC = {"node": m_.CPER_MEM_VALID_NODE, "card": m_.CPER_MEM_VALID_CARD, "module": m_.CPER_MEM_VALID_MODULE,
            "rank": m_.CPER_MEM_VALID_RANK_NUMBER, "bank": m_.CPER_MEM_VALID_BANK,
            "device": m_.CPER_MEM_VALID_DEVICE, "column": m_.CPER_MEM_VALID_COLUMN,
            "bit_position": m_.CPER_MEM_VALID_BIT_POSITION, "requestor_id": m_.CPER_MEM_VALID_REQUESTOR_ID,
            "responder_id": m_.CPER_MEM_VALID_RESPONDER_ID, "target_id": m_.CPER_MEM_VALID_TARGET_ID}
_MEM_ATTR = {"node": "node", "card": "card", "module": "module", "rank": "rank", "bank": "bank", "device": "device",
             "column": "column", "bit_position": "bit_pos", "requestor_id": "requestor_id",
             "responder_id": "responder_id", "target_id": "target_id"}
_PROC = [("processor_type", r"(\d+), .*", "proc_type", pg.CPER_PROC_VALID_TYPE, 10),
         ("processor_isa", r"(\d+), .*", "proc_isa", pg.CPER_PROC_VALID_ISA, 10),
         ("error_type", r"0x([0-9a-f]+)", "proc_error_type", pg.CPER_PROC_VALID_ERROR_TYPE, 16),
         ("operation", r"(\d+), .*", "operation", pg.CPER_PROC_VALID_OPERATION, 10),
         ("flags", r"0x([0-9a-f]+)", "flags", pg.CPER_PROC_VALID_FLAGS, 16),
         ("level", r"(\d+)", "level", pg.CPER_PROC_VALID_LEVEL, 10),
         ("version_info", r"0x([0-9a-f]+)", "cpu_version", pg.CPER_PROC_VALID_VERSION, 16),
         ("processor_id", r"0x([0-9a-f]+)", "proc_id", pg.CPER_PROC_VALID_ID, 16),
         ("target_address", r"0x([0-9a-f]+)", "target_addr", pg.CPER_PROC_VALID_TARGET_ADDRESS, 16),
         ("requestor_id", r"0x([0-9a-f]+)", "requestor_id", pg.CPER_PROC_VALID_REQUESTOR_ID, 16),
         ("responder_id", r"0x([0-9a-f]+)", "responder_id", pg.CPER_PROC_VALID_RESPONDER_ID, 16),
         ("IP", r"0x([0-9a-f]+)", "ip", pg.CPER_PROC_VALID_IP, 16)]
_FW_TYPES = {v: k for k, v in fw.FW_ERR_REC_TYPE.items()}


def _bcd_byte(v: int) -> int:
    """The byte whose bcd2bin is ``v`` (0..165)."""
    for b in range(256):
        if (b >> 4) * 10 + (b & 15) == v:
            return b
    raise ValueError(v)


def _timestamp(precise: bool, text: str) -> int | None:
    m = re.match(r"(\d\d)(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)$", text)
    if not m:
        return None
    cent, year, mon, day, hh, mm, ss = (int(x) for x in m.groups())
    vals = [ss, mm, hh, 0, day, mon, year, cent]
    try:
        b = [_bcd_byte(v) for v in vals]
    except ValueError:
        return None
    b[3] = 1 if precise else 0
    return int.from_bytes(bytes(b), "little")


class SectionParser(ArmCxlFeeds):
    """The fields of one ``Error N`` entry as its lines give them."""

    def __init__(self, where: str, severity: int, tstamp: tuple[bool, str] | None):
        self.where, self.severity, self.tstamp = where, severity, tstamp
        self.fru_id: Guid | None = None
        self.fru_text: str | None = None
        self.guid: Guid | None = None
        self.kind = ""
        self.f: dict[str, Any] = {}
        self.v = 0
        self.hex: dict[int, bytes] = {}
        self.hex_target: dict[int, bytes] | None = None
        self.length: int | None = None
        self.problems: list[str] = []
        self.err: list[dict[str, Any]] = []
        self.ctx: list[dict[str, Any]] = []
        self.vendor: dict[int, bytes] = {}
        self.vendor_len: int | None = None
        self.after = b""
        self.lines: list[tuple[str, str]] = []  # (file:line, text) of each line given to it
        self.unread: list[str] = []  # lines routed here that nothing reads
        self.printed_fields = True  # False when the kernel found it too short to print them

    def set_type(self, guid: bytes, *, unknown: bool = False) -> None:
        self.guid = Guid(bytes(guid))
        entry = KERNEL_SECTIONS.get(bytes(guid))
        self.kind = "unknown" if unknown else (entry[2] if entry else
                                               "cxl_event" if guid in IGNORE_SECTIONS else "ia32x64")
        self.hex_target = self.hex if self.kind in ("unknown", "firmware", "cxl") else None

    def feed(self, b: str, where: str) -> bool:
        m = _HEX.match(b)
        if m and self.hex_target is not None:
            words = m.group(2).split()
            cut = next((w for w in words if len(w) % 2), None)
            if cut is not None:  # print_hex_dump prints whole bytes: the line was cut
                self.problems.append(f"{where}: hex dump word {cut!r} is cut; the row is left out")
                return True
            self.hex_target[int(m.group(1), 16)] = b"".join(int(w, 16).to_bytes(len(w) // 2, "little") for w in words)
            return True
        fn = getattr(self, f"_feed_{self.kind}", None)
        if fn is None:
            return False
        return fn(b, where)

    def _feed_unknown(self, b: str, where: str) -> bool:
        m = re.match(r"section length: 0x([0-9a-f]+)$", b)
        if m:
            self.length = int(m.group(1), 16)
            return True
        return False

    def _feed_memory(self, b: str, where: str) -> bool:
        f = self.f
        m = re.match(r"error_status: (?:.*\()?0x([0-9a-f]+)\)?$", b)
        if m:
            f["error_status"] = int(m.group(1), 16)
            self.v |= m_.CPER_MEM_VALID_ERROR_STATUS
            return True
        m = re.match(r"physical_address(_mask)?: 0x([0-9a-f]+)$", b)
        if m:
            f["physical_addr_mask" if m.group(1) else "physical_addr"] = int(m.group(2), 16)
            self.v |= m_.CPER_MEM_VALID_PA_MASK if m.group(1) else m_.CPER_MEM_VALID_PA
            return True
        m = re.match(r"error_type: (\d+), ", b)
        if m:
            f["error_type"] = int(m.group(1))
            self.v |= m_.CPER_MEM_VALID_ERROR_TYPE
            return True
        m = re.match(r"DIMM location: (.*?)\s*$", b)
        if m:
            h = re.match(r"not present\. DMI handle: ?0x([0-9a-f]+)$", m.group(1))
            f["mem_dev_handle"] = int(h.group(1), 16) if h else 0
            self.v |= m_.CPER_MEM_VALID_MODULE_HANDLE
            if not h:
                self.problems.append(f"{where}: DIMM location {m.group(1)!r} was resolved through DMI; "
                                     "the handle is not in the log (kept as 0)")
            return True
        pairs = re.findall(r"(\w+): ?(0x[0-9a-f]+|\d+)", b)
        if pairs and pairs[0][0] in _MEM_LOC | {"bank_group": 0, "bank_address": 0, "row": 0, "chip_id": 0}:
            bank, ext = f.get("bank", 0), f.get("extended", 0)
            for k, val in pairs:
                x = int(val, 16) if val.startswith("0x") else int(val)  # %d; "02" read as 2
                if k in _MEM_LOC:
                    self.v |= _MEM_LOC[k]
                    f[_MEM_ATTR[k]] = x
                    bank = x if k == "bank" else bank
                elif k == "bank_group":
                    bank = (bank & 0xFF) | (x << 8)
                    self.v |= m_.CPER_MEM_VALID_BANK_GROUP
                elif k == "bank_address":
                    bank = (bank & ~0xFF) | x
                    self.v |= m_.CPER_MEM_VALID_BANK_ADDRESS
                elif k == "row":
                    f["row"] = x & 0xFFFF
                    self.v |= m_.CPER_MEM_VALID_ROW
                    if x > 0xFFFF:
                        ext = (ext & ~3) | (x >> 16 & 3)
                        self.v = (self.v & ~m_.CPER_MEM_VALID_ROW) | m_.CPER_MEM_VALID_ROW_EXT
                elif k == "chip_id":
                    ext = (ext & 0x1F) | (x << 5 & 0xE0)
                    self.v |= m_.CPER_MEM_VALID_CHIP_ID
                else:
                    self.problems.append(f"{where}: unknown memory location field {k!r}")
            f["bank"], f["extended"] = bank, ext
            return True
        return False

    def _feed_pcie(self, b: str, where: str) -> bool:
        f = self.f
        pats = [
            (r"port_type: (-?\d+), .*", pc.CPER_PCIE_VALID_PORT_TYPE, ("port_type",)),
            (r"version: (\d+)\.(\d+)", pc.CPER_PCIE_VALID_VERSION, ("version_major", "version_minor")),
            (r"command: 0x([0-9a-f]+), status: 0x([0-9a-f]+)", pc.CPER_PCIE_VALID_COMMAND_STATUS, ("command", "status")),
            (r"device_id: ([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)\.([0-9a-f]+)", pc.CPER_PCIE_VALID_DEVICE_ID,
             ("segment", "bus", "device", "function")),
            (r"slot: (\d+)", pc.CPER_PCIE_VALID_DEVICE_ID, ("slot",)),
            (r"secondary_bus: 0x([0-9a-f]+)", pc.CPER_PCIE_VALID_DEVICE_ID, ("secondary_bus",)),
            (r"vendor_id: 0x([0-9a-f]+), device_id: 0x([0-9a-f]+)", pc.CPER_PCIE_VALID_DEVICE_ID,
             ("vendor_id", "device_id")),
            (r"class_code: ([0-9a-f]{6})", pc.CPER_PCIE_VALID_DEVICE_ID, ("class_code",)),
            (r"serial number: 0x([0-9a-f]+), 0x([0-9a-f]+)", pc.CPER_PCIE_VALID_SERIAL_NUMBER,
             ("serial_number_lower", "serial_number_upper")),
            (r"bridge: secondary_status: 0x([0-9a-f]+), control: 0x([0-9a-f]+)",
             pc.CPER_PCIE_VALID_BRIDGE_CONTROL_STATUS, ("bridge_secondary_status", "bridge_control")),
            (r"aer_cor_status: 0x([0-9a-f]+), aer_cor_mask: 0x([0-9a-f]+)", pc.CPER_PCIE_VALID_AER_INFO,
             ("aer_cor_status", "aer_cor_mask")),
            (r"aer_uncor_status: 0x([0-9a-f]+), aer_uncor_mask: 0x([0-9a-f]+)", pc.CPER_PCIE_VALID_AER_INFO,
             ("aer_uncor_status", "aer_uncor_mask")),
            (r"aer_uncor_severity: 0x([0-9a-f]+)", pc.CPER_PCIE_VALID_AER_INFO, ("aer_uncor_severity",)),
            (r"TLP Header: ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})", pc.CPER_PCIE_VALID_AER_INFO,
             ("tlp0", "tlp1", "tlp2", "tlp3")),
        ]
        for pat, bit, names in pats:
            m = re.match(pat + r"\s*$", b)
            if m:
                dec = pat.startswith(("port_type", "version", "slot"))
                for k, val in zip(names, m.groups(), strict=True):
                    f[k] = int(val, 10 if dec else 16)
                self.v |= bit
                return True
        return False

    def _feed_proc_generic(self, b: str, where: str) -> bool:
        for key, pat, attr, bit, base in _PROC:
            m = re.match(rf"{key}: {pat}$", b)
            if m:
                self.f[attr] = int(m.group(1), base)
                self.v |= bit
                return True
        return ":" not in b  # cper_print_bits name lines: derived from error_type / flags

    def _feed_firmware(self, b: str, where: str) -> bool:
        m = re.match(r"error section length is too small: offset=(\d+), length=(\d+)$", b)
        if m:  # cper_print_fw_err: the kernel stops there
            self.problems.append(f"{where}: the section is {m.group(2)} bytes, shorter than its revision's "
                                 f"{m.group(1)}; rebuilt with the revision's whole fields")
            return True
        m = re.match(r"Firmware Error Record Type: (.+)$", b)
        if m:
            self.f["record_type"] = _FW_TYPES.get(m.group(1), 0xFF)
            return True
        m = re.match(r"Revision: (\d+)$", b)
        if m:
            self.f["revision"] = int(m.group(1))
            return True
        m = re.match(r"Record Identifier: ([0-9a-fA-F-]+)$", b)
        if m:
            if "-" in m.group(1):
                self.f["record_identifier_guid"] = Guid.parse(m.group(1))
            else:
                self.f["record_identifier"] = int(m.group(1), 16)
            return True
        return False

    def _bytes(self, chunks: dict[int, bytes], length: int | None, what: str) -> bytes:
        """Hexdump rows into bytes; rows the log lacks read as zeros (and are reported), but
        never more than MAX_FILL of them: a length or an offset the text claims is not
        memory to allocate."""
        size = max([o + len(c) for o, c in chunks.items()] + [length or 0])
        have = sum(len(c) for c in chunks.values())
        if size > have + MAX_FILL:
            self.problems.append(f"{self.where}: {what}: the log claims {size} bytes and shows {have}; "
                                 f"at most {MAX_FILL} missing bytes are filled, the rest is left out")
            size = have + MAX_FILL
        buf = bytearray(size)
        for o, c in chunks.items():
            if o + len(c) <= size:
                buf[o:o + len(c)] = c
        if have < size:
            self.problems.append(f"{self.where}: {what}: the log shows {have} of {size} bytes; the rest read as zero")
        return bytes(buf)

    def build(self) -> tuple[Any, dict[str, Any]]:
        hdr: dict[str, Any] = {"error_severity": self.severity, "validation_bits": 0}
        if self.fru_id is not None:
            hdr["fru_id"] = self.fru_id
            hdr["validation_bits"] |= n.CPER_SEC_VALID_FRU_ID
        if self.fru_text is not None:
            hdr["fru_text"] = self.fru_text.encode("latin-1", "replace")[:20].ljust(20, b"\0")
            hdr["validation_bits"] |= n.CPER_SEC_VALID_FRU_TEXT
        if self.tstamp is not None:
            ts = _timestamp(*self.tstamp)
            if ts is None:
                self.problems.append(f"{self.where}: timestamp {self.tstamp[1]!r} not understood")
            else:
                hdr["time_stamp"] = ts
                hdr["validation_bits"] |= n.ACPI_HEST_GEN_VALID_TIMESTAMP
        if self.guid is None:
            self.problems.append(f"{self.where}: section without a section type line")
            return RawSection(Guid(), b"", "section type not in the log"), hdr
        body = self._body()
        if isinstance(body, RawSection):
            hdr["section_type"] = body.guid
        return body, hdr

    def _body(self) -> Any:
        f = self.f
        if self.kind == "unknown":
            data = self._bytes(self.hex, self.length, "section")
            if section_class(self.guid) is not None:  # a GUID the printing kernel did not know yet
                try:
                    return decode_section(self.guid, data, 0, len(data), lenient=True)
                except FormatError as e:
                    self.problems.append(f"{self.where}: {e}")
            return RawSection(self.guid, data)
        if self.kind == "memory":
            return m_.CperSecMemErr(validation_bits=self.v, **f)
        if self.kind == "pcie":
            aer = bytearray(96)
            for off, k in ((4, "aer_uncor_status"), (8, "aer_uncor_mask"), (12, "aer_uncor_severity"),
                           (16, "aer_cor_status"), (20, "aer_cor_mask"), (28, "tlp0"), (32, "tlp1"), (36, "tlp2"),
                           (40, "tlp3")):
                aer[off:off + 4] = f.pop(k, 0).to_bytes(4, "little")
            if "class_code" in f:
                f["class_code"] = f["class_code"].to_bytes(3, "little")
            if "slot" in f:
                f["slot"] <<= pc.CPER_PCIE_SLOT_SHIFT
            if f.get("port_type", 0) < 0:
                f["port_type"] &= 0xFFFFFFFF
            return pc.CperSecPcie(validation_bits=self.v, aer_info=bytes(aer), **f)
        if self.kind == "proc_generic":
            return pg.CperSecProcGeneric(validation_bits=self.v, **f)
        if self.kind == "firmware":
            rev = f.get("revision", 0)
            start = {0: 16, 1: 8}.get(rev, 32)
            tail = self._bytes(self.hex, None, "trailing data") if self.hex else b""
            guid = f.get("record_identifier_guid", Guid())
            if rev == 1 and tail:
                f["record_identifier"] = int.from_bytes(tail[:8].ljust(8, b"\0"), "little")
                guid, tail = Guid(tail[8:24].ljust(16, b"\0")), tail[24:]
            elif rev == 0 and tail:
                guid, tail = Guid(tail[:16].ljust(16, b"\0")), tail[16:]
            del start
            return fw.CperSecFwErrRecRef(record_type=f.get("record_type", 0), revision=rev,
                                         record_identifier=f.get("record_identifier", 0),
                                         record_identifier_guid=guid, tail=tail)
        if self.kind == "arm":
            return self._arm()
        if self.kind == "cxl":
            return self._cxl()
        if self.kind == "cxl_event":  # cper_estatus_print_section names it and prints nothing more
            self.problems.append(f"{self.where}: the kernel prints no field of a CXL event section; "
                                 "its body is not in the log")
            return RawSection(self.guid, b"", "the kernel prints no field of a CXL event")
        self.problems.append(f"{self.where}: {self.kind} section: fields are not read from the log")
        return RawSection(self.guid, b"", f"{self.kind} fields not read from the log")


def new_section(where: str, severity: int, tstamp: tuple[bool, str] | None) -> SectionParser:
    return SectionParser(where, severity, tstamp)
