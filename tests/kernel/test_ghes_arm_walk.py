"""ghes_handle_arm_hw_error walks the error-info entries as drivers/acpi/apei/ghes.c does
(Linux 6.12): ``p += err_info->length``, so an entry's own length decides where the next one
is read, and a length of 0 reads the same entry again."""

from __future__ import annotations

from types import SimpleNamespace

from rasflow.formats.cper import arm as a
from rasflow.kernel.apei.ghes import GHES_SEV_RECOVERABLE, GhesDriver

CACHE_PA = dict(type=a.CPER_ARM_CACHE_ERROR, validation_bits=a.CPER_ARM_INFO_VALID_PHYSICAL_ADDR)


class Stub:
    """The parts of a GhesDriver the walk uses: the pages it sends to memory_failure and the
    lines it prints."""

    def __init__(self):
        self.pages, self.lines = [], []
        self.kernel = SimpleNamespace(trace=lambda *a, **k: None,
                                      printk_ratelimited=lambda line, **k: self.lines.append(line))

    def ghes_do_memory_failure(self, pa: int, flags: int) -> bool:
        self.pages.append(pa)
        return True


def walk(*infos: a.CperArmErrInfo) -> Stub:
    sec = a.CperSecProcArm(err_info=infos).with_lengths()
    gdata = SimpleNamespace(body=sec, header=SimpleNamespace(error_severity=0))  # recoverable
    stub = Stub()
    GhesDriver.ghes_handle_arm_hw_error(stub, gdata, GHES_SEV_RECOVERABLE, True)
    return stub


def test_entries_of_32_bytes_are_each_read_once():
    s = walk(a.CperArmErrInfo(length=32, physical_fault_addr=0x1000, **CACHE_PA),
             a.CperArmErrInfo(length=32, physical_fault_addr=0x2000, **CACHE_PA))
    assert s.pages == [0x1000, 0x2000]


def test_a_zero_length_reads_the_first_entry_again():
    s = walk(a.CperArmErrInfo(length=0, physical_fault_addr=0x1000, **CACHE_PA),
             a.CperArmErrInfo(length=32, physical_fault_addr=0x2000, **CACHE_PA))
    assert s.pages == [0x1000, 0x1000]
