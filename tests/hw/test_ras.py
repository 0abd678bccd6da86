"""RAS error records (Arm RAS System Architecture): W1C, overwrite priority, counters."""

from __future__ import annotations

import pytest

from rasflow.formats.arm.ras import ERR_MISC0_CEC16, ERR_STATUS, err_record_offset
from rasflow.hw.ras import ErrorNode


def fields(value):
    return ERR_STATUS.decode(value).fields


def test_record_uncorrected_error_sets_status_and_addr():
    """An uncorrected error sets V, UE, UET, AV (with ERR<n>ADDR.PADDR and NS), ER when
    reported as an External abort, and SERR."""
    node = ErrorNode("mc0", 1)
    node.record_error(0, ue=True, pa=0x4000_1040, serr=0x0C, uet="UER", er=True)
    f = fields(node.read(0, "STATUS"))
    assert (f["V"], f["UE"], f["UET"], f["AV"], f["ER"], f["SERR"], f["OF"]) == \
        (1, 1, 3, 1, 1, 0x0C, 0)
    assert node.read(0, "ADDR") & ((1 << 56) - 1) == 0x4000_1040
    assert node.read(0, "ADDR") >> 63 == 1
    assert node.valid_records() == [0]


def test_status_is_write_one_to_clear():
    """ERR<n>STATUS is W1C: writing back the value read clears the record (V, UE, ... and
    the syndrome); writing zeros changes nothing."""
    node = ErrorNode("mc0", 2)
    status = node.record_error(1, ue=True, pa=0x1000, serr=0x0C)
    node.write_status(1, 0)
    assert node.read_status(1) == status
    node.write_status(1, status)
    assert node.read_status(1) == 0 and node.valid_records() == []


def test_status_write_ignored_when_a_newer_error_arrived():
    """TF-A ras_arch.h: writing back the value read does not clear a record that a newer,
    higher-priority error updated in between (the write names no UE/OF it would clear)."""
    node = ErrorNode("mc0", 1)
    old = node.record_error(0, ue=False, ce=True, pa=0x1000, serr=0x0C)
    node.record_error(0, ue=True, pa=0x2000, serr=0x0C)
    node.write_status(0, old)
    assert fields(node.read_status(0))["UE"] == 1 and node.read_status(0) != 0


def test_overwrite_priority_ue_over_ce_and_overflow_on_equal():
    """Overwrite rules: UE replaces a CE syndrome; a CE does not replace a UE; a second UE
    is discarded and sets OF."""
    node = ErrorNode("mc0", 1)
    node.record_error(0, ue=False, ce=True, pa=0x1000, serr=0x0C)
    node.record_error(0, ue=True, pa=0x2000, serr=0x0C)
    f = fields(node.read_status(0))
    assert f["UE"] == 1 and node.read(0, "ADDR") & 0xFFFF == 0x2000 and f["OF"] == 0
    node.record_error(0, ue=False, ce=True, pa=0x3000, serr=0x0C)
    assert node.read(0, "ADDR") & 0xFFFF == 0x2000 and fields(node.read_status(0))["OF"] == 0
    node.record_error(0, ue=True, pa=0x4000, serr=0x0C)
    f = fields(node.read_status(0))
    assert f["OF"] == 1 and node.read(0, "ADDR") & 0xFFFF == 0x2000


def test_corrected_error_counter_overflow():
    """ERR<n>MISC0 (16-bit form, ERR<n>FR.CEC=0b100): each CE increments CEC; an increment
    past the maximum wraps to 0 and sets MISC0.OF and STATUS.OF."""
    node = ErrorNode("mc0", 1)
    for _ in range(3):
        node.record_error(0, ue=False, ce=True, pa=0x1000, serr=0x0C)
    assert node.corrected_count(0) == (3, False)
    assert fields(node.read_status(0))["CE"] != 0 and fields(node.read_status(0))["OF"] == 0
    cmax = ERR_MISC0_CEC16.by_name["CEC"].max
    node.set_corrected_count(0, cmax)
    node.record_error(0, ue=False, ce=True, pa=0x1000, serr=0x0C)
    assert node.corrected_count(0) == (0, True)
    assert ERR_MISC0_CEC16.decode(node.read(0, "MISC0")).fields["OF"] == 1
    assert fields(node.read_status(0))["OF"] == 1


def test_record_without_counter_discards_second_ce():
    """Without a corrected error counter, a second CE is a discarded syndrome: OF."""
    node = ErrorNode("cpu0", 3, kind="cache", record_kinds=("cache", "tlb", "bus"))
    node.record_error(1, ue=False, ce=True, serr=0x08)
    node.record_error(1, ue=False, ce=True, serr=0x08)
    assert fields(node.read_status(1))["OF"] == 1
    assert node.record_kind(1) == "tlb"


def test_detection_disabled_records_nothing():
    """ERR<n>CTLR.ED=0: the node does not record errors."""
    node = ErrorNode("mc0", 1)
    node.write(0, "CTLR", 0)
    node.record_error(0, ue=True, pa=0x1000, serr=0x0C)
    assert node.read_status(0) == 0


def test_memory_mapped_view():
    """The 4 KiB node frame: records at 64*n (TF-A ser_probe_memmap), ERRGSR bits for
    valid records, ERRDEVID.NUM; FR is read-only."""
    node = ErrorNode("mc0", 3)
    node.record_error(2, ue=True, pa=0x9000, serr=0x0C)
    assert node.mmio_read(err_record_offset(2, "STATUS")) == node.read_status(2)
    assert node.mmio_read(0xE00) == 0b100
    assert node.mmio_read(0xFC8) == 3
    fr = node.read(0, "FR")
    node.mmio_write(err_record_offset(0, "FR"), 0)
    assert node.read(0, "FR") == fr
    node.mmio_write(err_record_offset(2, "STATUS"), node.read_status(2))
    assert node.valid_records() == []


def test_bad_nodes_are_rasflow_errors():
    """A node kind outside memory/cache/tlb/bus, or more records than a 4 KiB node holds,
    is a rasflow configuration error."""
    with pytest.raises(ValueError):
        ErrorNode("x", 1, kind="gpu")
    with pytest.raises(ValueError):
        ErrorNode("x", 100)
