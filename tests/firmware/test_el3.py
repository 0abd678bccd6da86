"""EL3 firmware first, end to end on the machine model (issue 4's firmware acceptance items)."""

from __future__ import annotations

import pytest

from firmware.fwtest import (
    GUEST,
    VHE_HOST,
    Recorder,
    boot,
    os_ack,
    skip_and_return,
    source,
    status_block,
)
from rasflow.firmware import El3Policy
from rasflow.formats import arm, cper
from rasflow.formats.arm.sysreg import HCR_EL2, VSESR_EL2
from rasflow.formats.cper import arm as carm
from rasflow.formats.cper import memory as cmem
from rasflow.formats.cper import names as cn

PA = 0x4800_0040  # a granule in mc0's RAM
UART = 0x0900_0000


def consume_ue(*, hcr=VHE_HOST, firmware_first=True, el=0, **kw):
    """A DRAM UE at PA, consumed by a load at ``el``; the OS handler at EL1/EL2 records."""
    m, p, fw = boot(hcr=hcr, firmware_first=firmware_first, **kw)
    os1, os2 = Recorder(), Recorder()
    m.pes[0].install(1, os1)
    m.pes[0].install(2, os2)
    m.inject("memory-ue", pa=PA)
    proc = m.pes[0].run([("load", PA)], el=el)
    m.engine.run()
    return m, p, fw, os1, os2, proc


def test_dram_ue_consumed_at_el0_firmware_first_acceptance():
    """A DRAM UE consumed at EL0 with SCR_EL3.EA=1: EL3 writes a status block that decodes
    to a recoverable memory-error CPER at the right PA, clears the read-ack register, and
    fakes the SEA entry at EL2 (the VHE host) with the ESR/FAR/ELR/SPSR of a real one."""
    m, p, fw, os1, os2, proc = consume_ue()
    sea = source(m, p, "SEA")
    est = status_block(m, sea)
    assert est.check() == []
    assert est.block.error_severity == cn.CPER_SEV_RECOVERABLE
    assert est.block.block_status & cn.ACPI_HEST_UNCORRECTABLE
    (entry,) = est.entries
    mem = entry.body
    assert isinstance(mem, cmem.CperSecMemErr)
    assert entry.header.error_severity == cn.CPER_SEV_RECOVERABLE
    assert mem.validation_bits & cmem.CPER_MEM_VALID_PA and mem.physical_addr == PA
    loc = m.dram_address(PA)  # the platform's decode matches the memory controller's map
    assert (mem.node, mem.card, mem.module, mem.bank, mem.row, mem.column, mem.rank) == (
        loc.node, loc.card, loc.module, loc.bank, loc.row, loc.column, loc.rank)
    assert mem.error_type == 3  # multi-bit ECC
    assert m.memory.read_u64(sea.read_ack_register) == 0  # for the OS to set
    assert m.node("mc0").valid_records() == []  # the record was cleared (W1C)

    # the faked entry equals what a real SEA routed to EL2 writes (same machine, SCR_EL3.EA=0)
    _, _, _, _, real2, _ = consume_ue(firmware_first=False)
    (fake,), (real,) = os2.entries, real2.entries
    assert not os1.entries
    assert fake == real
    assert (fake.target_el, fake.kind, fake.from_el, fake.vector_offset) == (2, "sync", 0, 0x400)
    assert arm.decode_esr(fake.esr).ec == 0x24 and fake.far == PA
    assert m.pes[0].regs["ESR_EL2"] == real.esr and m.pes[0].regs["FAR_EL2"] == PA

    names = [(e.component, e.name) for e in m.engine.trace]
    i = names.index(("fw", "inject_sync_ea64"))
    assert names.index(("fw", "ras_ea_handler")) < names.index(("fw", "ghes_record_cper_errors")) < i
    after = [e for e in m.engine.trace.events[i + 1:] if e.name == "exception_entry"]
    assert after[0].fields["el"] == 2 and after[0].fields["esr"] == real.esr
    assert proc.value == "left"


def test_sea_from_el1_injected_at_el1_gets_the_same_el_syndrome():
    """Without HCR_EL2.TEA a guest kernel's SEA belongs to EL1: EC 0x25 (same EL) at the
    current-EL/SPx vector, exactly as the real abort would be taken."""
    guest = HCR_EL2.encode(RW=1, VM=1)
    m, *_, os1, os2, _ = consume_ue(hcr=guest, el=1)
    _, _, _, real1, _, _ = consume_ue(hcr=guest, el=1, firmware_first=False)
    (fake,), (real,) = os1.entries, real1.entries
    assert fake == real and not os2.entries
    assert arm.decode_esr(fake.esr).ec == 0x25 and fake.vector_offset == 0x200


def test_sea_from_guest_with_tea_goes_to_el2():
    """HCR_EL2.TEA=1 routes a guest's SEA to EL2 (Arm ARM D24.2.62), and so does the injection."""
    hcr = HCR_EL2.encode(RW=1, VM=1, TEA=1, AMO=1)
    m, *_, os1, os2, _ = consume_ue(hcr=hcr, el=1)
    _, _, _, _, real2, _ = consume_ue(hcr=hcr, el=1, firmware_first=False)
    assert os2.entries == real2.entries and not os1.entries


def test_tf_a_inject_target_rule_is_narrower():
    """TF-A's inject_sync_ea64 sends an EL0 abort to EL2 only with TEA *and* TGE: a VHE host
    without TEA gets it at EL1 (the policy keeps that behaviour for comparison)."""
    m, *_, os1, os2, _ = consume_ue(policy=El3Policy(inject_target="tf-a"))
    assert os1.entries and not os2.entries


REFLECT = El3Policy(delegate_serror="uncorrected")


def _seed(mode: str, *, sources=("SEA", "SEI", "POLLED")):
    """The seed example, firmware first: a guest EL0 device access whose SError arrives
    after the next svc; the guest kernel's entry runs an ESB (``mode`` "esb") or unmasks
    SErrors (``mode`` "unmask"); a test hypervisor at EL2 answers the faked SError with a
    virtual SError of a chosen syndrome. The firmware reflects the SError into EL2: the
    PRD's platform option (TF-A itself returns to where the SError was taken)."""
    m, p, fw = boot(hcr=GUEST, sources=sources, policy=REFLECT)
    pe = m.pes[0]
    vsesr = VSESR_EL2.encode(IDS=0, AET=3, EA=0, DFSC=0x11)  # UER, as KVM would choose
    log = {"disr": [], "el1": [], "el2": []}

    class GuestKernel:
        def on_exception(self, pe, exc):
            log["el1"].append(exc)
            if exc.kind == "serror":
                return  # the virtual SError itself: recorded
            if mode == "esb":
                pe.esb()
                log["disr"].append(pe.read_sysreg("DISR_EL1"))
            else:  # unmask SErrors and go back to the task: the SError arrives there
                pe.daifclr("A")
                pe.eret()

    class Hypervisor:
        def on_exception(self, pe, exc):
            log["el2"].append(exc)
            if exc.kind == "serror":
                pe.write_sysreg("VSESR_EL2", vsesr)
                pe.write_sysreg("HCR_EL2", pe.read_sysreg("HCR_EL2") | HCR_EL2.encode(VSE=1))
                pe.eret()
            elif exc.kind == "irq":
                pe.acknowledge_interrupt()
                pe.eret()

    pe.install(1, GuestKernel())
    pe.install(2, Hypervisor())
    m.inject("device-serror", pa=UART, delay_ns=5, aet="UER")
    pe.run([("load", UART), ("svc", 0), ("sleep", 20)], el=0)
    m.engine.run()
    return m, p, fw, log, vsesr


def test_seed_example_firmware_first_esb_defers_the_virtual_serror():
    """Seed example, firmware first: the SError arrives after the svc, is taken to EL3 at the
    guest kernel's ESB (SCR_EL3.EA=1: PSTATE.A does not mask it below EL3), the firmware logs
    it and fakes an SError entry at EL2; the hypervisor sets HCR_EL2.VSE with VSESR_EL2; the
    guest's ESB defers the virtual SError into VDISR_EL2, which it reads as DISR_EL1."""
    m, p, fw, log, vsesr = _seed("esb")
    trace = m.engine.trace
    svc = next(e for e in trace if e.name == "exception_entry" and e.fields["el"] == 1)
    el3 = next(e for e in trace if e.name == "exception_entry" and e.fields["el"] == 3)
    assert el3.fields["exception"] == "serror" and el3.fields["from_el"] == 1
    assert el3.time >= svc.time  # it arrived late: after the svc was issued
    assert [e.name for e in trace if e.component == "fw"][-3:] == [
        "ras_ea_handler", "ghes_record_cper_errors", "inject_serror"]
    (hyp,) = [e for e in log["el2"] if e.kind == "serror"]
    assert hyp.from_el == 1 and hyp.vector_offset == 0x400 + 0x180
    assert hyp.esr == el3.fields["esr"]
    disr = log["disr"][0]  # the guest's ESB deferred it: DISR_EL1 reads VDISR_EL2
    assert disr == arm.VDISR_EL2.encode(A=1, IDS=0, AET=3, DFSC=0x11)
    assert disr == m.pes[0].regs["VDISR_EL2"] and m.pes[0].regs["DISR_EL1"] == 0
    assert not m.pes[0].regs["HCR_EL2"] & HCR_EL2.encode(VSE=1)
    assert not [e for e in log["el1"] if e.kind == "serror"]
    # the firmware logged it: an ARM processor (bus error) CPER in the SEI source's block
    est = status_block(m, source(m, p, "SEI"))
    (entry,) = est.entries
    assert isinstance(entry.body, carm.CperSecProcArm)
    assert entry.body.err_info[0].type == carm.CPER_ARM_BUS_ERROR
    assert est.block.error_severity == cn.CPER_SEV_RECOVERABLE


def test_seed_example_firmware_first_unmasked_guest_takes_the_virtual_serror():
    """...and if the guest unmasks SErrors instead, it takes the virtual SError at EL1 with
    ESR_EL1 = EC 0x2F | VSESR_EL2[24:0]."""
    m, p, fw, log, vsesr = _seed("unmask")
    (vse,) = [e for e in log["el1"] if e.kind == "serror"]
    assert vse.esr == arm.encode_esr(EC=0x2F, IL=1) | vsesr
    assert m.pes[0].regs["ESR_EL1"] == vse.esr


def test_seed_example_default_sources_notify_by_gpio_interrupt():
    """With QEMU virt's sources (no SEI) the SError's record goes to the GPIO source and the
    OS is told by its interrupt; the SError itself is still delegated to EL2."""
    m, p, fw, log, _ = _seed("esb", sources=("SEA", "GPIO", "POLLED"))
    gpio = source(m, p, "GPIO")
    assert status_block(m, gpio).entries
    pend = [e for e in m.engine.trace if e.name == "interrupt_pending" and e.fields["intid"] == gpio.vector]
    assert pend and not pend[0].fields["fiq"]
    assert [e.kind for e in log["el2"]].count("serror") == 1


@pytest.mark.parametrize("unacked", ["drop", "queue"])
def test_unacked_second_error(unacked):
    """Two DRAM UEs; the OS has not acked the first record when the second comes: QEMU's
    rule (read-ack 0 = not acknowledged) makes the firmware drop or queue it (traced), and
    the second abort is delegated all the same. A queued record is written once the OS acks."""
    m, p, fw = boot(policy=El3Policy(unacked=unacked, ack_poll_ns=1000))
    os2 = Recorder(skip_and_return(2))
    m.pes[0].install(2, os2)
    pa2 = PA + 0x1000
    m.inject("memory-ue", pa=PA)
    m.inject("memory-ue", pa=pa2)
    m.pes[0].run([("load", PA), ("load", pa2)], el=0)
    m.engine.run(until=10_000)
    sea = source(m, p, "SEA")
    results = [e.fields["result"] for e in m.engine.trace.named("ghes_record_cper_errors")]
    assert results == ["written", {"drop": "dropped", "queue": "queued"}[unacked]]
    assert len(os2.entries) == 2 and [e.far for e in os2.entries] == [PA, pa2]
    assert status_block(m, sea).entries[0].body.physical_addr == PA
    os_ack(m, sea)
    m.engine.run(until=20_000)
    results = [e.fields["result"] for e in m.engine.trace.named("ghes_record_cper_errors")]
    if unacked == "queue":
        assert results[-1] == "written"
        assert status_block(m, sea).entries[0].body.physical_addr == pa2
        assert m.memory.read_u64(sea.read_ack_register) == 0
    else:
        assert len(results) == 2 and status_block(m, sea).entries[0].body.physical_addr == PA


def test_corrected_error_goes_to_the_polled_source_without_an_exception():
    """A DRAM CE: the counter (preloaded to the threshold) overflows, the fault handling
    interrupt goes to EL3 as a FIQ; the firmware records a corrected memory CPER in the
    POLLED source; nothing is taken at EL1 or EL2 and the program runs to its end."""
    m, p, fw = boot()
    os1, os2 = Recorder(), Recorder()
    m.pes[0].install(1, os1)
    m.pes[0].install(2, os2)
    proc = m.pes[0].run([("sleep", 100), ("load", 0x4000_2000)], el=0)
    m.engine.schedule(10, lambda: m.inject("memory-ce", pa=PA))
    m.engine.run()
    assert proc.value == "done" and not os1.entries and not os2.entries
    polled = source(m, p, "POLLED")
    est = status_block(m, polled)
    assert est.block.error_severity == cn.CPER_SEV_CORRECTED
    assert est.block.block_status & cn.ACPI_HEST_CORRECTABLE
    mem = est.entries[0].body
    assert mem.physical_addr == PA and mem.error_type == 2  # single-bit ECC
    assert m.memory.read_u64(polled.read_ack_register) == 0
    assert not m.memory.read_u64(source(m, p, "SEA").read_ack_register) == 0  # untouched
    el3 = [e for e in m.engine.trace if e.name == "exception_entry"]
    assert [(e.fields["el"], e.fields["exception"]) for e in el3] == [(3, "fiq")]
    assert m.node("mc0").corrected_count(0) == (0x7FFF, False)  # re-armed for the next one


def test_patrol_scrub_ue_is_a_latent_recoverable_record_with_an_interrupt():
    """A UE found by the patrol scrubber (deferred, DE): recorded as recoverable + latent
    ("scrub uncorrected error") in the interrupt-notified source, whose SPI is raised."""
    m, p, fw = boot()
    m.pes[0].install(2, Recorder(lambda pe, exc: (pe.acknowledge_interrupt(), pe.eret())))
    m.pes[0].run([("sleep", 100)], el=0)
    m.engine.schedule(10, lambda: m.inject("patrol-scrub", pa=PA))
    m.engine.run()
    gpio = source(m, p, "GPIO")
    est = status_block(m, gpio)
    (entry,) = est.entries
    assert est.block.error_severity == cn.CPER_SEV_RECOVERABLE
    assert entry.header.flags & cn.CPER_SEC_LATENT_ERROR
    assert entry.body.error_type == 14 and entry.body.physical_addr == PA
    irq = [e for e in m.engine.trace if e.name == "exception_entry" and e.fields["exception"] == "irq"]
    assert irq and irq[0].fields["el"] == 2 and irq[0].fields["intid"] == gpio.vector


def test_pe_cache_error_gives_an_arm_processor_section_with_el1_context():
    """A UE in cpu0's cache record, signalled as an SError: an ARM processor section with a
    cache error-info entry and the AArch64 EL1 context (type 5) from the PE's registers."""
    m, p, fw = boot(hcr=HCR_EL2.encode(RW=1))
    pe = m.pes[0]
    os1 = Recorder()
    pe.install(1, os1)
    pe.regs["TPIDR_EL1"] = 0x1234
    pe.run([("sleep", 50)], el=0)
    m.engine.schedule(10, lambda: m.inject("cache", cpu=0, uet="UER", pa=PA))
    m.engine.run()
    est = status_block(m, source(m, p, "GPIO"))
    sec = est.entries[0].body
    assert isinstance(sec, carm.CperSecProcArm) and sec.check() == []
    assert sec.mpidr == pe.regs["MPIDR_EL1"] and sec.midr == pe.regs["MIDR_EL1"]
    (info,) = sec.err_info
    assert info.type == carm.CPER_ARM_CACHE_ERROR and info.physical_fault_addr == PA
    ctx = sec.context_info[0].registers()
    assert sec.context_info[0].type == 5
    assert ctx["midr_el1"] == pe.regs["MIDR_EL1"] and ctx["tpidr_el1"] == 0x1234
    assert pe.node.valid_records() == []
    # TF-A: el3_exit back to the interrupted EL0 program; the OS hears by the GPIO interrupt
    assert not [e for e in os1.entries if e.kind == "serror"]


def test_reflecting_an_serror_fakes_an_entry_at_the_owning_el():
    """The platform option: after logging, the firmware fakes an SError entry at the EL that
    would have taken it with SCR_EL3.EA=0 (EL1 here: no AMO/TGE), at the lower-EL vector."""
    m, p, fw = boot(hcr=HCR_EL2.encode(RW=1), policy=REFLECT)
    pe = m.pes[0]
    os1 = Recorder()
    pe.install(1, os1)
    pe.run([("sleep", 50)], el=0)
    m.engine.schedule(10, lambda: m.inject("cache", cpu=0, uet="UER", pa=PA))
    m.engine.run()
    (serr,) = [e for e in os1.entries if e.kind == "serror"]
    assert serr.vector_offset == 0x580
    assert [e.name for e in m.engine.trace if e.component == "fw"][-1] == "inject_serror"


def test_uncontainable_error_halts_the_platform_and_logs_to_bert():
    """AET=UC: plat_handle_uncontainable_ea, a platform panic; a fatal record is left in the
    boot error region for the next boot's BERT."""
    m, p, fw = boot()
    os2 = Recorder()
    m.pes[0].install(2, os2)
    proc = m.pes[0].run([("sleep", 50), ("load", PA)], el=0)
    m.engine.schedule(10, lambda: m.inject("uncontainable", cpu=0))
    m.engine.run()
    assert m.halted and "uncontainable" in m.halt_reason
    assert proc.value == "halted" and not os2.entries  # stopped, never delegated
    assert not [e for e in m.engine.trace if e.name == "ras_record"]  # the load never ran
    from rasflow.formats import acpi

    region = acpi.decode_boot_error_region(m.memory.read(p.boot_error_region_pa, 0x1000))
    (blk,) = region.blocks
    assert blk.block.error_severity == cn.CPER_SEV_FATAL
    assert fw.machine.engine.trace.named("plat_handle_uncontainable_ea")


def test_uncontainable_sync_abort_set_uc_halts():
    """A synchronous External abort with SET=UC is uncontainable (TF-A handler_sync_exception)."""
    m, p, fw = boot()
    m.pes[0].install(2, Recorder())
    m.inject("memory-ue", pa=PA, uet="UC")
    m.pes[0].run([("load", PA)], el=0)
    m.engine.run()
    assert m.halted and m.engine.trace.named("plat_handle_uncontainable_ea")
    assert not m.engine.trace.named("inject_sync_ea64")


def test_sdei_source_dispatches_the_event_instead_of_injecting():
    """With an SDEI source for SErrors the firmware dispatches the event to the registered
    client (sdei_dispatch_event); the client completes with SMC SDEI_EVENT_COMPLETE and the
    interrupted context resumes: no faked SError."""
    m, p, fw = boot(sources=("SEA", "SDEI", "POLLED"), hcr=HCR_EL2.encode(RW=1))
    sdei = source(m, p, "SOFTWARE_DELEGATED")
    seen = []

    class Client:
        def on_exception(self, pe, exc):
            seen.append(("exc", exc.kind))

        def on_sdei_event(self, pe, event, arg, elr, spsr):
            seen.append(("sdei", event, pe.pstate.el))
            pe.smc(0x25)  # SDEI_EVENT_COMPLETE

    m.pes[0].install(2, Client())
    fw.sdei_event_register(sdei.vector, 2, 0xFFFF_8000_0900_0000)
    proc = m.pes[0].run([("sleep", 50)], el=0)
    m.engine.schedule(10, lambda: m.inject("cache", cpu=0, uet="UER"))
    m.engine.run()
    assert seen == [("sdei", sdei.vector, 2)]
    names = [e.name for e in m.engine.trace if e.component == "fw"]
    assert "sdei_dispatch_event" in names and "sdei_event_complete" in names
    assert "inject_serror" not in names
    assert status_block(m, sdei).entries
    assert proc.value == "done"


def test_unhandled_external_abort_panics_like_tf_a():
    """An abort no error record claims (an access to an unbacked PA): TF-A's default
    platform handler panics; the "report" policy logs the syndrome and delegates."""
    m, p, fw = boot()
    m.pes[0].install(2, Recorder())
    m.pes[0].run([("load", 0x10_0000_0000_0000)], el=0)
    m.engine.run()
    assert m.halted and m.engine.trace.named("plat_default_ea_handler")

    m, p, fw = boot(policy=El3Policy(unhandled_ea="report"))
    os2 = Recorder()
    m.pes[0].install(2, os2)
    m.pes[0].run([("load", 0x10_0000_0000_0000)], el=0)
    m.engine.run()
    assert not m.halted and len(os2.entries) == 1
    est = status_block(m, source(m, p, "SEA"))
    assert est.entries[0].body.err_info[0].virt_fault_addr == 0x10_0000_0000_0000


def _scenario_trace(seed: int) -> str:
    m, p, fw = boot(seed=seed, policy=El3Policy(unacked="queue", ack_poll_ns=500))
    m.pes[0].install(2, Recorder(skip_and_return(2)))
    m.inject("memory-ue", pa=PA)
    m.inject("memory-ue", pa=PA + 0x40)
    m.inject("device-serror", pa=UART, delay_ns=3)
    m.pes[0].run([("load", PA), ("load", PA + 0x40), ("load", UART), ("sleep", 10)], el=0)
    m.engine.schedule(5, lambda: m.inject("memory-ce", pa=PA + 0x2000))
    m.engine.run(until=5000)
    return m.engine.trace.to_jsonl()


def test_same_seed_same_trace():
    """Two runs with the same seed give byte-identical JSON Lines traces."""
    a, b = _scenario_trace(7), _scenario_trace(7)
    assert a == b and a.count("\n") > 20


def test_status_block_bytes_are_what_the_kernel_prints():
    """The written block is a well-formed estatus the kernel's printer accepts."""
    m, p, *_ = consume_ue()
    lines = cper.render_kernel(status_block(m, source(m, p, "SEA")))
    assert any("physical_address: 0x0000000048000040" in line for line in lines)


def test_corrected_errors_harvested_by_the_firmware_timer():
    """Without a threshold interrupt the firmware's timer harvests corrected errors (a DRAM
    CE and a cache CE) into the POLLED source: no exception at all, not even at EL3."""
    m, p, fw = boot(policy=El3Policy(ce_threshold=0, ce_poll_ns=1000))
    m.pes[0].run([("sleep", 3000)], el=0)
    m.engine.schedule(10, lambda: m.inject("memory-ce", pa=PA, count=3))
    m.engine.run(until=1500)
    est = status_block(m, source(m, p, "POLLED"))
    assert est.block.error_severity == cn.CPER_SEV_CORRECTED
    assert est.entries[0].body.physical_addr == PA
    assert m.node("mc0").valid_records() == []
    os_ack(m, source(m, p, "POLLED"))
    m.engine.schedule(0, lambda: m.inject("cache", cpu=0, ue=False, ce=True))
    m.engine.run(until=2500)
    sec = status_block(m, source(m, p, "POLLED")).entries[0].body
    assert isinstance(sec, carm.CperSecProcArm)
    assert sec.err_info[0].decode_error_info()["corrected"] == 1
    assert not [e for e in m.engine.trace if e.name == "exception_entry"]


def test_gsiv_source_raises_its_interrupt():
    """A platform with a GSIV source: a patrol-scrub record goes there and its GSI is raised."""
    m, p, fw = boot(sources=("SEA", "GSIV", "POLLED"))
    m.pes[0].install(2, Recorder(lambda pe, exc: (pe.acknowledge_interrupt(), pe.eret())))
    m.pes[0].run([("sleep", 100)], el=0)
    m.engine.schedule(10, lambda: m.inject("patrol-scrub", pa=PA))
    m.engine.run()
    gsiv = source(m, p, "GSIV")
    assert status_block(m, gsiv).entries[0].body.physical_addr == PA
    assert [e.fields["intid"] for e in m.engine.trace.named("interrupt_pending")][-1] == gsiv.vector


def test_sea_consumed_by_the_host_kernel_at_el2():
    """The host kernel itself (EL2, VHE) consumes poison: the injected abort is a same-EL
    one (EC 0x25) at EL2's current-EL/SPx vector, as the real one would be."""
    m, *_, os1, os2, _ = consume_ue(el=2)
    _, _, _, _, real2, _ = consume_ue(el=2, firmware_first=False)
    (fake,), (real,) = os2.entries, real2.entries
    assert fake == real and arm.decode_esr(fake.esr).ec == 0x25 and fake.vector_offset == 0x200


def test_no_source_for_the_error_is_traced_and_the_abort_still_delegated():
    """A HEST without a source for synchronous errors: nothing is written (traced), the abort
    is still delegated to the OS."""
    m, *_, os1, os2, _ = consume_ue(sources=("POLLED",))
    assert m.engine.trace.named("ghes_no_source") and len(os2.entries) == 1 and not m.halted
