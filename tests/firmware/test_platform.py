"""The platform's ACPI tables and GHESv2 blocks, as bytes in physical memory."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rasflow.engine import Engine
from rasflow.firmware.ghes import GhesWriter, hest_ghes_targets
from rasflow.firmware.platform import (
    BOOT_ERROR_REGION_SIZE,
    FW_REGION_SIZE,
    Platform,
    SourceSpec,
    read_table,
)
from rasflow.formats import acpi, cper
from rasflow.formats.acpi.names import NOTIFY_BY_NAME
from rasflow.formats.cper import memory as cmem
from rasflow.hw.memory import PhysicalMemory

RAM = (0x4000_0000, 1 << 30)


def boot(**kw):
    """Memory and an engine are all the platform tables need (no PE)."""
    m = SimpleNamespace(engine=Engine(seed=1), memory=PhysicalMemory([RAM]))
    return m, Platform(m, **kw)


def mem_estatus(pa: int, sev: int = 0) -> cper.Estatus:
    sec = cmem.CperSecMemErr(validation_bits=cmem.CPER_MEM_VALID_PA, error_status=0, physical_addr=pa,
                             physical_addr_mask=0, node=0, card=0, module=0, bank=0, device=0, row=0,
                             column=0, bit_pos=0, requestor_id=0, responder_id=0, target_id=0,
                             error_type=0, extended=0, rank=0, mem_array_handle=0, mem_dev_handle=0, tail=b"")
    return cper.build_estatus([sec], error_severity=sev)


def test_tables_are_published_as_valid_acpi_bytes():
    m, p = boot()
    assert p.region == (RAM[0] + RAM[1] - FW_REGION_SIZE, FW_REGION_SIZE)
    tables = p.tables()
    hest = acpi.decode(read_table(m.memory, tables["HEST"]), strict=True)
    assert [acpi.names.NOTIFY_TYPES[s.notify_type] for s in hest.sources] == ["SEA", "GPIO", "POLLED"]
    assert [s.source_id for s in hest.sources] == [0, 1, 2]
    assert hest.sources[2].notify_poll_interval > 0  # ghes.c arms its timer from it
    bert = acpi.decode(read_table(m.memory, tables["BERT"]), strict=True)
    assert bert.region_length == BOOT_ERROR_REGION_SIZE and bert.address == p.boot_error_region_pa
    assert acpi.decode_boot_error_region(m.memory.read(bert.address, bert.region_length)).blocks == ()
    ev = m.engine.trace.named("acpi_tables_published")
    assert len(ev) == 1 and ev[0].fields["HEST"] == p.hest_pa


def test_ghes_gas_point_at_block_pointers_and_ack_registers_qemu_layout():
    m, p = boot()
    targets = hest_ghes_targets(m.memory, p.hest_pa)
    blocks = [m.memory.read_u64(t.error_status_address) for t in targets]
    assert blocks == [p.hardware_errors_pa + 16 * 3 + 1024 * i for i in range(3)]
    assert [m.memory.read_u64(t.read_ack_register) for t in targets] == [1, 1, 1]  # first error can be written
    assert all(t.error_block_length == 1024 for t in targets)


def test_configurable_sources_get_vectors():
    m, p = boot(sources=["SEA", "SEI", "SDEI", "GSIV", SourceSpec("POLLED", poll_interval_ms=50)])
    targets = hest_ghes_targets(m.memory, p.hest_pa)
    assert [t.notify for t in targets] == ["SEA", "SEI", "SOFTWARE_DELEGATED", "GSIV", "POLLED"]
    assert targets[2].vector and targets[3].vector
    hest = acpi.decode(read_table(m.memory, p.hest_pa), strict=True)
    assert hest.sources[4].notify_poll_interval == 50
    with pytest.raises(ValueError):
        boot(sources=["NOPE"])


def test_bert_carries_boot_errors():
    est = mem_estatus(0x4123_4000, sev=1)
    m, p = boot(boot_errors=[est])
    region = acpi.decode_boot_error_region(m.memory.read(p.boot_error_region_pa, BOOT_ERROR_REGION_SIZE))
    assert region.blocks == (est,)


def test_dram_location_is_the_platform_decoder():
    _, p = boot()
    loc = p.dram_location(RAM[0] + 8 * 1024 * 3, node=2)
    assert loc.node == 2 and loc.bank == 3 and loc.column == 0


def _writer(m, p, **kw):
    return GhesWriter(m.engine, m.memory, p.hest_pa, **kw)


def test_record_written_then_ack_cleared():
    m, p = boot()
    w = _writer(m, p)
    t = w.target("SEA")
    assert w.ghes_record_cper_errors(t, mem_estatus(0x4000_1000)) == "written"
    block = m.memory.read_u64(t.error_status_address)
    got = cper.decode(m.memory.read(block, 1024))
    assert got.entries[0].body.physical_addr == 0x4000_1000
    assert m.memory.read_u64(t.read_ack_register) == 0
    ev = m.engine.trace.named("ghes_record_cper_errors")[-1]
    assert ev.fields["result"] == "written" and ev.fields["block"] == block


def test_unacked_second_record_is_dropped_by_default():
    m, p = boot()
    w = _writer(m, p)
    t = w.target("SEA")
    w.ghes_record_cper_errors(t, mem_estatus(0x4000_1000))
    assert w.ghes_record_cper_errors(t, mem_estatus(0x4000_2000)) == "dropped"
    block = m.memory.read_u64(t.error_status_address)
    assert cper.decode(m.memory.read(block, 1024)).entries[0].body.physical_addr == 0x4000_1000
    assert m.engine.trace.named("ghes_record_cper_errors")[-1].fields["result"] == "dropped"


def test_unacked_record_queued_until_the_os_acks():
    m, p = boot()
    notified = []
    w = _writer(m, p, unacked="queue", ack_poll_ns=1000, notify=lambda t, e: notified.append(t.source_id))
    t = w.target("GPIO")
    w.ghes_record_cper_errors(t, mem_estatus(0x4000_1000))
    assert w.ghes_record_cper_errors(t, mem_estatus(0x4000_2000)) == "queued"
    m.engine.run(until=5000)
    assert not notified  # still not acked: the timer keeps re-checking
    # the OS acks as ghes_ack_error() does: (read & preserve) | write
    v = m.memory.read_u64(t.read_ack_register)
    m.memory.write_u64(t.read_ack_register, (v & t.read_ack_preserve) | t.read_ack_write)
    m.engine.run(until=10_000)
    assert notified == [t.source_id]
    block = m.memory.read_u64(t.error_status_address)
    assert cper.decode(m.memory.read(block, 1024)).entries[0].body.physical_addr == 0x4000_2000
    results = [e.fields["result"] for e in m.engine.trace.named("ghes_record_cper_errors")]
    assert results == ["written", "queued", "written"]
    assert m.engine.pending == 0  # the timer stops once the queue is empty


def test_record_larger_than_the_block_is_refused():
    m, p = boot()
    w = _writer(m, p)
    big = mem_estatus(0x4000_1000)._replace(trailing=b"\0" * 1024)
    assert w.ghes_record_cper_errors(w.target("SEA"), big) == "too_big"
    assert NOTIFY_BY_NAME["SEA"] == 8
