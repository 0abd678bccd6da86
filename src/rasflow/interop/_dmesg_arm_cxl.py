"""The ARM processor and CXL protocol error entries of a kernel log, read back.

A mixin of ``_dmesg_sections.SectionParser``: the ``_feed_arm``/``_feed_cxl`` line readers
(inverting formats/render/kernel's ARM and CXL printers) and the builders of those two
sections. The hexdump rows, ``_bytes`` and the other section families stay in
_dmesg_sections.py.
"""

from __future__ import annotations

import re
from typing import Any

from ..formats.cper import arm as ac
from ..formats.cper import arm_names as an
from ..formats.cper import cxl_protocol as cx
from ..formats.cper import pcie as pc

_ARM_INFO_FLAGS = {"first error captured": 1, "last error captured": 2, "propagated error captured": 4,
                   "overflow occurred, error info is incomplete": 8}
_CTX_TYPES = {v: k for k, v in an.ARM_REG_CTX.items()}
# detail lines the kernel derives from error_info / bits already read (nothing new in them)
_ARM_DERIVED = re.compile(r"(transaction type|(cache |TLB |bus )?error, operation type|operation type|cache level|"
                          r"TLB level|affinity level at which|processor context|the error has|PC is|"
                          r"Program execution|participation type|request timed out|address space|"
                          r"memory access attributes|access mode)")


class ArmCxlFeeds:
    """ARM and CXL line readers and section builders for ``SectionParser``, whose state
    (declared below) and ``_bytes`` hexdump joiner they use."""

    where: str
    f: dict[str, Any]
    v: int
    hex: dict[int, bytes]
    hex_target: dict[int, bytes] | None
    problems: list[str]
    err: list[dict[str, Any]]
    ctx: list[dict[str, Any]]
    vendor: dict[int, bytes]
    vendor_len: int | None
    after: bytes

    def _feed_cxl(self, b: str, where: str) -> bool:
        f = self.f
        pats = [
            (r"agent_type: (\d+), .*", cx.PROT_ERR_VALID_AGENT_TYPE, ("agent_type",), 10),
            (r"agent_address: ([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)\.([0-9a-f]+)", cx.PROT_ERR_VALID_AGENT_ADDRESS,
             ("segment", "bus", "device", "function"), 16),
            (r"rcrb_base_address: 0x([0-9a-f]+)", cx.PROT_ERR_VALID_AGENT_ADDRESS, ("agent_addr",), 16),
            (r"slot: (\d+)", cx.PROT_ERR_VALID_DEVICE_ID, ("slot",), 10),
            (r"vendor_id: 0x([0-9a-f]+), device_id: 0x([0-9a-f]+)", cx.PROT_ERR_VALID_DEVICE_ID,
             ("vendor_id", "device_id"), 16),
            (r"sub_vendor_id: 0x([0-9a-f]+), sub_device_id: 0x([0-9a-f]+)", cx.PROT_ERR_VALID_DEVICE_ID,
             ("subsystem_vendor_id", "subsystem_id"), 16),
            (r"class_code: ([0-9a-f]+)", cx.PROT_ERR_VALID_DEVICE_ID, ("class_code",), 16),
            (r"lower_dw: 0x([0-9a-f]+), upper_dw: 0x([0-9a-f]+)", cx.PROT_ERR_VALID_SERIAL_NUMBER,
             ("lower_dw", "upper_dw"), 16),
            (r"DVSEC length: 0x([0-9a-f]+)", cx.PROT_ERR_VALID_DVSEC, ("dvsec_len",), 16),
            (r"Error log length: 0x([0-9a-f]+)", cx.PROT_ERR_VALID_ERROR_LOG, ("err_len",), 16),
            (r"cxl_ras_(uncor_status|uncor_mask|uncor_severity|cor_status|cor_mask): 0x([0-9a-f]+)", 0, None, 16),
            (r"cap_control: 0x([0-9a-f]+)", 0, ("ras_cap_control",), 16),
        ]
        for pat, bit, names, base in pats:
            m = re.match(pat + r"$", b)
            if m:
                if names is None:
                    f["ras_" + m.group(1)] = int(m.group(2), 16)
                else:
                    f.update({k: int(v, base) for k, v in zip(names, m.groups(), strict=True)})
                self.v |= bit
                return True
        targets = {"CXL DVSEC:": "dvsec", "Header Log Registers:": "hdrlog", "CXL Error Log:": None}
        if b in targets:
            if targets[b]:
                self.hex_target = f.setdefault("hex_" + targets[b], {})
            return True
        return False

    def _cxl(self) -> Any:
        f = dict(self.f)
        if "segment" in f:
            f["agent_addr"] = f.pop("segment") << 24 | f.pop("bus") << 16 | f.pop("device") << 8 | f.pop("function")
        elif "agent_addr" in f:
            f.setdefault("agent_type", cx.RCH_DP)  # only an RCH downstream port prints rcrb_base_address
        if "slot" in f:
            f["slot"] <<= pc.CPER_PCIE_SLOT_SHIFT
        dvsec = self._bytes(f.pop("hex_dvsec", {}), f.get("dvsec_len", 0), "DVSEC")[: f.get("dvsec_len", 0)]
        ras = b"".join(f.pop("ras_" + k, 0).to_bytes(4, "little") for k in
                       ("uncor_status", "uncor_mask", "uncor_severity", "cor_status", "cor_mask", "cap_control"))
        hdrlog = f.pop("hex_hdrlog", {})
        if self.v & cx.PROT_ERR_VALID_ERROR_LOG:
            ras += self._bytes(hdrlog, 64, "header log")
        else:
            ras += bytes(64)
            if hdrlog:  # the kernel prints the log only with its valid bit (cper_print_prot_err)
                self.problems.append(f"{self.where}: header log rows without the 'Error log length' line "
                                     "the kernel prints with them; left out")
        err_len = f.get("err_len", 0)
        if any(ras[err_len:]):
            self.after = ras[err_len:]  # the kernel read them from the memory after the section
        if self.hex:
            self.v |= cx.PROT_ERR_VALID_CAPABILITY
        cap = self._bytes(self.hex, cx.CXL_CAP_LEN, "capability")[: cx.CXL_CAP_LEN] if self.hex else bytes(cx.CXL_CAP_LEN)
        hdr = cx.CperSecProtErrHdr(valid_bits=self.v, capability=cap, **f)
        return cx.CperSecCxlProtErr(hdr, dvsec, ras[:err_len].ljust(err_len, b"\0"))

    def _feed_arm(self, b: str, where: str) -> bool:
        f, err = self.f, self.err[-1] if self.err else None
        m = re.match(r"(MIDR|Multiprocessor Affinity Register \(MPIDR\)|running state): 0x([0-9a-f]+)$", b)
        if m:
            key = {"MIDR": "midr", "running state": "running_state"}.get(m.group(1), "mpidr")
            f[key] = int(m.group(2), 16)
            self.v |= {"midr": 0, "mpidr": ac.CPER_ARM_VALID_MPIDR, "running_state": ac.CPER_ARM_VALID_RUNNING_STATE}[key]
            return True
        m = re.match(r"(error affinity level|Power State Coordination Interface state|ERR_INFO_NUM is|"
                     r"section length)[: ]\s*(-?\d+)(?:, CPER size: \d+)?$", b)
        if m:
            key = {"error affinity level": "affinity_level", "ERR_INFO_NUM is": "bad_err_info_num",
                   "section length": "bad_section_length"}.get(m.group(1), "psci_state")
            f[key] = int(m.group(2)) & 0xFFFFFFFF
            self.v |= ac.CPER_ARM_VALID_AFFINITY_LEVEL if key == "affinity_level" else 0
            return True
        if re.match(r"(section length is too (small|big)|firmware-generated error record is incorrect)$", b):
            self.problems.append(f"{where}: the kernel reports a malformed ARM section: {b!r}")
            return True
        m = re.match(r"Error info structure (\d+):$", b)
        if m:
            self.err.append({"validation_bits": 0, "type": 0, "flags": 0, "multiple_error": 0})
            self.hex_target = None
            return True
        if err is not None and not self.ctx and self.vendor_len is None:
            m = re.match(r"num errors: (\d+)$", b)
            if m:
                err["multiple_error"] = max(int(m.group(1)) - 1, 0)
                return True
            if b in _ARM_INFO_FLAGS:
                err["flags"] |= _ARM_INFO_FLAGS[b]
                err["validation_bits"] |= ac.CPER_ARM_INFO_VALID_FLAGS
                return True
            m = re.match(r"error_type: (?:0x([0-9a-f]+): .*|(\d+), (.*))$", b)
            if m:
                # UEFI 2.9A bitmask (new kernels) or the older enumeration "0, cache error"
                if m.group(1):
                    err["type"] = int(m.group(1), 16)
                elif int(m.group(2)) < 7:  # the 8-bit type field holds bits 1..7
                    err["type"] = 1 << (int(m.group(2)) + 1)
                else:
                    self.problems.append(f"{where}: error_type {m.group(2)} is not one the 8-bit field holds")
                return True
            m = re.match(r"(error_info|virtual fault address|physical fault address): 0x([0-9a-f]+)$", b)
            if m:
                key, bit = {"error_info": ("error_info", ac.CPER_ARM_INFO_VALID_ERR_INFO),
                            "virtual fault address": ("virt_fault_addr", ac.CPER_ARM_INFO_VALID_VIRT_ADDR),
                            "physical fault address": ("physical_fault_addr", ac.CPER_ARM_INFO_VALID_PHYSICAL_ADDR)}[m.group(1)]
                err[key] = int(m.group(2), 16)
                err["validation_bits"] |= bit
                return True
            if _ARM_DERIVED.match(b):
                return True
        m = re.match(r"Context info structure (\d+):$", b)
        if m:
            self.ctx.append({"type": 0, "regs": {}})
            self.hex_target = self.ctx[-1]["regs"]
            return True
        m = re.match(r"register context type: (.+)$", b)
        if m and self.ctx and m.group(1) in _CTX_TYPES:
            self.ctx[-1]["type"] = _CTX_TYPES[m.group(1)]
            return True
        m = re.match(r"Vendor specific error info has (\d+) bytes:$", b)
        if m:
            self.vendor_len = int(m.group(1))
            self.hex_target = self.vendor
            return True
        return False

    def _arm(self) -> Any:
        f = dict(self.f)
        bad_len, bad_num = f.pop("bad_section_length", None), f.pop("bad_err_info_num", None)
        errs = tuple(ac.CperArmErrInfo(version=0, length=32, **e) for e in self.err)
        ctxs = []
        for c in self.ctx:
            regs = self._bytes(c["regs"], None, "context registers")
            ctxs.append(ac.CperArmCtxInfo(version=0, type=c["type"], size=len(regs), regs=regs))
        vendor = self._bytes(self.vendor, self.vendor_len, "vendor data") if self.vendor_len is not None else b""
        sec = ac.CperSecProcArm(validation_bits=self.v, err_info_num=len(errs), context_info_num=len(ctxs),
                                err_info=errs, context_info=tuple(ctxs), vendor_specific=vendor, **f)
        sec = sec._replace(section_length=sec.nbytes)
        if bad_len is not None or bad_num is not None:
            self.problems.append(f"{self.where}: malformed ARM section (section_length {bad_len}, "
                                 f"ERR_INFO_NUM {bad_num}); kept the header fields the log shows")
        return sec
