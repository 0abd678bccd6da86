"""drivers/acpi/apei/ghes.c: one :class:`Ghes` per GHES/GHESv2 source (struct ghes) and the
driver's shared state (:class:`GhesDriver`: the SEA list, the NMI-safe queue, the estatus
cache, the print rate limits and the sequence number).

The NMI-like chain keeps the kernel's phases, each hop its own scheduled event:
``ghes_notify_sea`` (in the exception: peek, check, read, panic if fatal, clear + ack,
drop if cached, queue) → irq_work ``ghes_proc_in_irq`` (``ghes_do_proc``, then print and
cache) → task_work on return to user (``memory_failure`` for MF_ACTION_REQUIRED).
Status blocks are read as bytes from physical memory at the address the HEST gives.
"""

from __future__ import annotations

from ...formats import cper
from ...formats.acpi.names import NOTIFY_TYPES
from ...formats.cper import arm as carm
from ...formats.cper import guids
from ...formats.cper import memory as cmem
from ...formats.cper import names as cn
from ...formats.cper import pcie as cpcie
from ...formats.cper.arm_names import CPER_PROC_ERROR_TYPE_STRS
from ...formats.errors import FormatError
from ...formats.linux.errno import EIO, ENOENT
from ...formats.linux.mm import MF_ACTION_REQUIRED, MF_SOFT_OFFLINE
from ...formats.render.kernel import FW_WARN, HW_ERR, ghes_print_estatus
from ...formats.render.kernel.arm import cper_bits_to_str
from .estatus import (
    GHES_SEV_CORRECTED,
    GHES_SEV_PANIC,
    GHES_SEV_RECOVERABLE,
    HEADER,
    HEADER_SIZE,
    NSEC_PER_SEC,
    EstatusCache,
    Ratelimit,
    cper_estatus_check,
    cper_estatus_check_header,
    cper_estatus_len,
    ghes_severity,
)

GHES_PFX = "GHES: "
_CPER_TO_AER = {0: "AER_NONFATAL", 1: "AER_FATAL", 2: "AER_CORRECTABLE"}  # cper_severity_to_aer
PAGE_SHIFT = 12
_BLOCK_STATUS_CLEAR = bytes(4)  # block_status (u32) = 0


_HED_NOTIFY = ("SCI", "GSIV", "GPIO")  # ghes_probe(): these go on ghes_hed (the HED notifier)

class Ghes:
    """struct ghes: one source, its HEST entry and its platform device ``GHES.<n>``."""

    def __init__(self, driver: GhesDriver, generic, index: int):
        self.driver = driver
        self.generic = generic
        self.source_id = generic.source_id
        self.notify = NOTIFY_TYPES.get(generic.notify_type, str(generic.notify_type))
        self.dev = f"GHES.{index}"
        self.v2 = getattr(generic, "TYPE", 9) == 10

    @property
    def sync(self) -> bool:
        """is_hest_sync_notify()."""
        return self.notify == "SEA"

    # --- reading and clearing the status block --------------------------------------
    def buf_paddr(self) -> int:
        return self.driver.memory.read_u64(self.generic.error_status_address_address)

    def __ghes_peek_estatus(self):
        mem = self.driver.memory
        buf_paddr = self.buf_paddr()
        if not buf_paddr:
            return -ENOENT, 0, None
        hdr = HEADER.unpack(mem.read(buf_paddr, HEADER_SIZE))
        if not hdr[0]:
            return -ENOENT, buf_paddr, hdr
        return 0, buf_paddr, hdr

    def __ghes_check_estatus(self, hdr) -> int:
        length = cper_estatus_len(hdr)
        if length < HEADER_SIZE:
            self.driver.kernel.printk_ratelimited(f"{FW_WARN}{GHES_PFX}Truncated error status block!")
            return -EIO
        if length > self.generic.error_block_length:
            self.driver.kernel.printk_ratelimited(
                f"{FW_WARN}{GHES_PFX}Invalid error status block length!")
            return -EIO
        if cper_estatus_check_header(hdr):
            self.driver.kernel.printk_ratelimited(f"{FW_WARN}{GHES_PFX}Invalid CPER header!")
            return -EIO
        return 0

    def __ghes_read_estatus(self, buf_paddr: int, length: int):
        buf = self.driver.memory.read(buf_paddr, length)
        if cper_estatus_check(buf):
            self.driver.kernel.printk_ratelimited(
                f"{FW_WARN}{GHES_PFX}Failed to read error status block!")
            return -EIO, buf
        return 0, buf

    def ghes_read_estatus(self):
        """peek + check + read: (rc, buf_paddr, bytes)."""
        rc, buf_paddr, hdr = self.__ghes_peek_estatus()
        if rc:
            return rc, buf_paddr, b""
        rc = self.__ghes_check_estatus(hdr)
        if rc:
            return rc, buf_paddr, b""
        rc, buf = self.__ghes_read_estatus(buf_paddr, cper_estatus_len(hdr))
        return rc, buf_paddr, buf

    def ghes_clear_estatus(self, buf_paddr: int) -> None:
        """block_status = 0 in memory, then (GHESv2) ghes_ack_error()."""
        if not buf_paddr:
            return
        self.driver.memory.write(buf_paddr, _BLOCK_STATUS_CLEAR)  # block_status (u32) = 0
        if self.v2:
            self.ghes_ack_error()

    def ghes_ack_error(self) -> int:
        """(read & preserve << bit_offset) | (write << bit_offset) into the Read Ack Register."""
        g, mem = self.generic, self.driver.memory
        reg = g.read_ack_register_address
        val = mem.read_u64(reg)
        shift = g.read_ack_register_bit_offset
        val = (val & (g.read_ack_preserve << shift)) | (g.read_ack_write << shift)
        mem.write_u64(reg, val & 0xFFFF_FFFF_FFFF_FFFF)
        k = self.driver.kernel
        engine = k.engine  # k.trace(...), inline (here and on the other per-flow events)
        engine.trace.emit(engine.now, k.name, "ghes_ack_error",
                          {"source_id": self.source_id, "register": reg, "value": val})
        return 0

    # --- the NMI-like path ---------------------------------------------------------------
    def ghes_in_nmi_queue_one_entry(self) -> int:
        rc, buf_paddr, hdr = self.__ghes_peek_estatus()
        if rc:
            self.ghes_clear_estatus(buf_paddr)
            return rc
        rc = self.__ghes_check_estatus(hdr)
        if rc:
            self.ghes_clear_estatus(buf_paddr)
            return rc
        severity = hdr[4]
        rc, buf = self.__ghes_read_estatus(buf_paddr, cper_estatus_len(hdr))
        if rc:
            self.ghes_clear_estatus(buf_paddr)
            return -ENOENT
        sev = ghes_severity(severity)
        if sev >= GHES_SEV_PANIC:
            self.__ghes_panic(buf, buf_paddr)
            return 0
        self.ghes_clear_estatus(buf_paddr)
        d = self.driver
        k = d.kernel
        engine = k.engine
        if d.estatus_cache.cached(buf, engine.now):
            k.trace("ghes_estatus_cached", source_id=self.source_id, length=len(buf))
            return 0
        d.llist.append((self, buf))
        engine.trace.emit(engine.now, k.name, "ghes_in_nmi_queue_one_entry",
                          {"source_id": self.source_id, "length": len(buf), "severity": sev})
        return 0

    def __ghes_panic(self, buf: bytes, buf_paddr: int) -> None:
        d = self.driver
        d.print_estatus(self, buf)  # __ghes_print_estatus(KERN_EMERG, ...)
        self.ghes_clear_estatus(buf_paddr)
        d.kernel.panic(f"{GHES_PFX}Fatal hardware error")

    # --- the polled/interrupt path -------------------------------------------------------
    def ghes_proc(self) -> int:
        d = self.driver
        rc, buf_paddr, buf = self.ghes_read_estatus()
        if not rc:
            if ghes_severity(HEADER.unpack_from(buf)[4]) >= GHES_SEV_PANIC:
                self.__ghes_panic(buf, buf_paddr)
                return rc
            if not d.estatus_cache.cached(buf, d.kernel.now) and d.ghes_print_estatus(self, buf):
                d.estatus_cache.add(buf, d.kernel.now)
            d.ghes_do_proc(self, buf)
        self.ghes_clear_estatus(buf_paddr)
        d.kernel.trace("ghes_proc", source_id=self.source_id, rc=rc)
        return rc

    def ghes_poll_func(self) -> None:
        """The POLLED source's timer: ghes_proc, then re-arm (poll_interval ms)."""
        if self.driver.kernel.machine.halted:
            return
        self.ghes_proc()
        self.driver.kernel.engine.schedule(self.generic.notify_poll_interval * 1_000_000,
                                           self.ghes_poll_func)


class GhesDriver:
    """ghes.c's statics, for one kernel."""

    def __init__(self, kernel, memory):
        self.kernel = kernel
        self.memory = memory
        self.ghes: list[Ghes] = []
        self.ghes_sea: list[Ghes] = []
        self.other: dict[str, list[Ghes]] = {}
        self.sdei: dict[int, Ghes] = {}  # SDEI event number -> its source
        self.llist: list[tuple[Ghes, bytes]] = []
        self.estatus_cache = EstatusCache()
        self.seqno = 0
        self._last_decoded: tuple[bytes, object] = (b"", None)
        self.ratelimit_corrected = Ratelimit(5 * NSEC_PER_SEC, 2)
        self.ratelimit_uncorrected = Ratelimit(5 * NSEC_PER_SEC, 2)

    def ghes_probe(self, generic, index: int) -> Ghes | None:
        k = self.kernel
        ghes = Ghes(self, generic, index)
        n = ghes.notify
        if n == "SEA":
            self.ghes_sea.append(ghes)
        elif n == "POLLED":
            k.engine.schedule(generic.notify_poll_interval * 1_000_000, ghes.ghes_poll_func)
        elif n == "SOFTWARE_DELEGATED":  # apei_sdei_register_ghes(): the event number
            self.sdei[generic.notify_vector] = ghes
        elif n in ("GSIV", "GPIO", "EXTERNAL", "SCI"):
            self.other.setdefault(n, []).append(ghes)
        else:
            k.printk(f"{GHES_PFX}Unknown notification type: {generic.notify_type} "
                     f"for generic hardware error source: {generic.source_id}")
            k.trace("ghes_probe", source_id=generic.source_id, notify=n, rc=-22)
            return None
        self.ghes.append(ghes)
        k.trace("ghes_probe", source_id=generic.source_id, notify=n, dev=ghes.dev, v2=ghes.v2)
        return ghes

    def ghes_notify_sea(self) -> int:
        """ghes_in_nmi_spool_from_list(&ghes_sea): 0 if any source queued (or dropped) one."""
        ret = -ENOENT
        for ghes in self.ghes_sea:
            if not ghes.ghes_in_nmi_queue_one_entry():
                ret = 0
        k = self.kernel
        engine = k.engine
        engine.trace.emit(engine.now, k.name, "ghes_notify_sea", {"rc": ret, "queued": len(self.llist)})
        return ret

    def ghes_sdei_callback(self, event: int) -> bool:
        """__ghes_sdei_callback(): the NMI-like path for the event's source; True if a
        block was queued for irq_work."""
        ghes = self.sdei.get(event)
        if ghes is None:
            return False
        before = len(self.llist)
        rc = ghes.ghes_in_nmi_queue_one_entry()
        self.kernel.trace("ghes_sdei_callback", event=event, source_id=ghes.source_id, rc=rc)
        return len(self.llist) > before

    def ghes_irq(self, intid: int) -> bool:
        """An interrupt for the error sources, wired as ghes_probe() wires them
        (drivers/acpi/apei/ghes.c): an EXTERNAL source has its own IRQ (ghes_irq_func:
        ghes_proc on that source); SCI, GSIV and GPIO sources sit on the ghes_hed list, and
        the platform's event for any of them (the GED's interrupt, or the source's own
        vector) ends in Notify(HED) -> acpi_hed_notify -> ghes_notify_hed: ghes_proc on every
        source of the list."""
        hit = False
        for ghes in self.other.get("EXTERNAL", ()):
            if ghes.generic.notify_vector == intid:
                ghes.ghes_proc()
                hit = True
        hed = [g for n in _HED_NOTIFY for g in self.other.get(n, ())]
        ged = getattr(self.kernel.machine, "ged_intid", None)
        if hed and (intid == ged or any(g.generic.notify_vector == intid for g in hed)):
            self.kernel.spend("hed_notify")  # the GED's _EVT, Notify(HED), acpi_hed_notify
            for ghes in hed:
                ghes.ghes_proc()
            hit = True
        return hit

    def ghes_proc_in_irq(self, cpu: int | None = None):
        """irq_work (on ``cpu``, the one that queued it): every queued block in order:
        ghes_do_proc, then print and cache."""
        k = self.kernel
        if cpu is not None:
            k.this_cpu = cpu
        nodes, self.llist = self.llist, []
        engine, cache = k.engine, self.estatus_cache
        engine.trace.emit(engine.now, k.name, "ghes_proc_in_irq", {"entries": len(nodes)})
        for ghes, buf in nodes:
            self.ghes_do_proc(ghes, buf)
            if not cache.cached(buf, engine.now) and self.ghes_print_estatus(ghes, buf):
                cache.add(buf, engine.now)
        yield 0

    # --- printing -----------------------------------------------------------------------
    def ghes_print_estatus(self, ghes: Ghes, buf: bytes) -> bool:
        sev = ghes_severity(HEADER.unpack_from(buf)[4])
        rl = self.ratelimit_corrected if sev <= GHES_SEV_CORRECTED else self.ratelimit_uncorrected
        k = self.kernel
        engine = k.engine
        if not rl(engine.now):
            engine.trace.emit(engine.now, k.name, "ghes_print_estatus",
                              {"source_id": ghes.source_id, "ratelimited": True})
            return False
        self.print_estatus(ghes, buf)
        return True

    def print_estatus(self, ghes: Ghes, buf: bytes) -> None:
        """__ghes_print_estatus(): the next ``{seq}`` prefix, the source line, the CPER lines."""
        self.seqno += 1
        est = self._decode(buf)
        if est is None:
            return
        for line in ghes_print_estatus(est, ghes.source_id, self.seqno):
            self.kernel.printk(line)

    def _decode(self, buf: bytes):
        """The decoded block, or None when it does not decode; ghes_do_proc and the print
        that follows it read the same block, so the last one is kept."""
        last = self._last_decoded
        if last[0] != buf:
            try:
                est = cper.decode(buf, lenient=True)
            except FormatError:
                est = None
            self._last_decoded = (bytes(buf), est)
            return est
        return last[1]

    # --- ghes_do_proc ----------------------------------------------------------------------
    def ghes_do_proc(self, ghes: Ghes, buf: bytes) -> None:
        k = self.kernel
        engine = k.engine
        sev = ghes_severity(HEADER.unpack_from(buf)[4])
        engine.trace.emit(engine.now, k.name, "ghes_do_proc",
                          {"source_id": ghes.source_id, "severity": sev, "estatus": bytes(buf)})
        engine.spend("ghes_do_proc", k.name)
        queued = False
        sync = ghes.sync
        est = self._decode(buf)
        for gdata in est.entries if est is not None else ():
            h = gdata.header
            section_type = h.section_type
            if section_type == guids.CPER_SEC_PLATFORM_MEM:
                engine.trace.emit(engine.now, k.name, "mc_event",
                                  {"severity": sev, "pa": getattr(gdata.body, "physical_addr", None)})
                queued = self.ghes_handle_memory_failure(gdata, sev, sync)
            elif section_type == guids.CPER_SEC_PROC_ARM:
                queued = self.ghes_handle_arm_hw_error(gdata, sev, sync)
            elif section_type == guids.CPER_SEC_PCIE:
                self.ghes_handle_aer(gdata)
            else:
                k.trace("non_standard_event", section_type=str(section_type),
                        severity=ghes_severity(h.error_severity), length=h.error_data_length)
        if sync and not queued:
            task = k.current_task()
            comm, pid = (task.comm, task.pid) if task else ("swapper/0", 0)
            k.printk(f"GHES {ghes.dev}: {HW_ERR}{GHES_PFX}{comm}:{pid}: "
                     "synchronous unrecoverable error (SIGBUS)")
            if task is not None:
                k.force_sig(task)

    def ghes_do_memory_failure(self, physical_addr: int, flags: int) -> bool:
        k = self.kernel
        pfn = physical_addr >> PAGE_SHIFT
        if not k.pages.pfn_valid(pfn):
            k.printk_ratelimited(f"{FW_WARN}{GHES_PFX}Invalid address in generic error data: "
                                 f"{physical_addr:#x}")
            return False
        task = k.current_task()
        if flags == MF_ACTION_REQUIRED and task is not None and task.mm is not None:
            task.task_works.append(lambda: k.mf.memory_failure(pfn, flags))  # memory_failure_cb
            engine = k.engine
            engine.trace.emit(engine.now, k.name, "task_work_add",
                              {"pid": task.pid, "func": "memory_failure_cb", "pfn": pfn})
            return True
        k.mf.memory_failure_queue(pfn, flags)
        return True

    def ghes_handle_memory_failure(self, gdata, sev: int, sync: bool) -> bool:
        mem = gdata.body
        h = gdata.header
        sec_sev = ghes_severity(h.error_severity)
        if not isinstance(mem, cmem.CperSecMemErr) or not mem.validation_bits & cmem.CPER_MEM_VALID_PA:
            return False
        flags = -1
        if sec_sev == GHES_SEV_CORRECTED and h.flags & cn.CPER_SEC_ERROR_THRESHOLD_EXCEEDED:
            flags = MF_SOFT_OFFLINE
        if sev == GHES_SEV_RECOVERABLE and sec_sev == GHES_SEV_RECOVERABLE:
            flags = MF_ACTION_REQUIRED if sync else 0
        if flags != -1:
            return self.ghes_do_memory_failure(mem.physical_addr, flags)
        return False

    def ghes_handle_aer(self, gdata) -> None:
        """ghes_handle_aer(): with a device id and the AER registers, aer_recover_queue();
        its worker finds no such pci_dev in this model and says so (drivers/pci/pcie/aer.c)."""
        k, e = self.kernel, gdata.body
        need = cpcie.CPER_PCIE_VALID_DEVICE_ID | cpcie.CPER_PCIE_VALID_AER_INFO
        if not isinstance(e, cpcie.CperSecPcie) or e.validation_bits & need != need:
            return
        severity = _CPER_TO_AER.get(gdata.header.error_severity, "AER_FATAL")
        if gdata.header.flags & cn.CPER_SEC_RESET:  # the firmware reset the component
            severity = "AER_FATAL"
        bdf = f"{e.segment:04x}:{e.bus:02x}:{e.device:02x}.{e.function:x}"
        k.trace("aer_recover_queue", device=bdf, severity=severity)
        k.engine.schedule(0, k.printk, f"AER: no pci_dev for {bdf}")  # aer_recover_work_func

    def ghes_handle_arm_hw_error(self, gdata, sev: int, sync: bool) -> bool:
        """drivers/acpi/apei/ghes.c (Linux 6.12): log_arm_hw_error, then for a recoverable
        section each of its ERR_INFO_NUM error-info entries, stepping by each entry's own
        ``length`` byte as ``p += err_info->length`` does (a length of 0 reads the same
        entry again); a cache error with a physical address goes to memory_failure. The
        bytes past the section read as zeros here (the kernel reads on in its buffer)."""
        k = self.kernel
        raw = gdata.body.encode()
        head = carm.CperSecProcArmHeader.decode(raw[:carm.HEADER_SIZE].ljust(carm.HEADER_SIZE, b"\0"))
        flags = MF_ACTION_REQUIRED if sync else 0
        queued = False
        k.trace("arm_event", mpidr=head.mpidr, midr=head.midr, running_state=head.running_state,
                err_info=head.err_info_num)
        if sev != GHES_SEV_RECOVERABLE or ghes_severity(gdata.header.error_severity) != GHES_SEV_RECOVERABLE:
            return False
        p, size = carm.HEADER_SIZE, carm.CPER_ARM_INFO_ENTRY_SIZE
        for _ in range(head.err_info_num):
            info = carm.CperArmErrInfo.decode(raw[p:p + size].ljust(size, b"\0"))
            p += info.length
            is_cache = info.type & carm.CPER_ARM_CACHE_ERROR
            has_pa = info.validation_bits & carm.CPER_ARM_INFO_VALID_PHYSICAL_ADDR
            if is_cache and has_pa:
                queued = self.ghes_do_memory_failure(info.physical_fault_addr, flags)
                continue
            names = cper_bits_to_str((info.type & carm.CPER_ARM_ERR_TYPE_MASK) >> 1,
                                     CPER_PROC_ERROR_TYPE_STRS)
            reserved = " with reserved bit(s)" if info.type & ~carm.CPER_ARM_ERR_TYPE_MASK else ""
            k.printk_ratelimited(f"{FW_WARN}{GHES_PFX}Unhandled processor error type "
                                 f"0x{info.type:02x}: {names}{reserved}")
        return queued
