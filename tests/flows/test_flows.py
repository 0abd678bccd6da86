"""The whole stack (hw, EL3 firmware, host kernel, KVM, VMM, guest kernel, processes) on the
flows of the kernel/KVM/VMM issue, under the four policies."""

from __future__ import annotations

import dataclasses
from importlib.resources import files

import pytest

import rasflow
from rasflow.formats.linux import kvm as uapi
from rasflow.formats.linux.errno import EINVAL
from rasflow.scenario import builtin_names, load_scenario, parse_scenario
from rasflow.scenario.outcome import record_addresses
from rasflow.scenario.runner import run

UER_DFSC_11 = 0xC11  # ISS: AET = UER (0b011 << 10), DFSC = 0x11 (SError)


def flow(name_or_text: str, policy: str | None = None, **machine):
    sc = (load_scenario(name_or_text) if "\n" not in name_or_text
          else parse_scenario(name_or_text, "test.toml"))
    if machine:
        sc = dataclasses.replace(sc, machine=dataclasses.replace(sc.machine, **machine))
    return run(sc, policy=policy)


def events(r, name, component=None):
    return [e for e in r.events if e.name == name and (component is None or e.component == component)]


def addresses(records):
    return sorted(a for rec in records for a in record_addresses(rec))


# --- the reference flow ------------------------------------------------------------------

def test_guest_ue_upstream_reference_flow():
    r = flow("guest-ue-ar")
    o = r.outcome.to_dict()
    sysm = r.system
    vmm = sysm.vmms["vm0"]
    assert o["host"] == "running" and o["vms"] == {"vm0": "running"}
    assert o["processes"]["vm0:app"] == "killed"
    # the host logs a recoverable memory CPER at the host PA of the page
    inject = events(r, "inject")[0].fields["pa"]
    assert addresses(o["cper"]["host"]) == [inject]
    assert o["cper"]["host"][0]["block"]["error_severity_name"] == "recoverable"
    # SIGBUS AR with si_addr = the HVA reaches the VMM's vCPU thread
    vmm_sig = next(s for s in o["signals"] if s["target"] == "vmm:vm0")
    assert vmm_sig["si_code"] == "BUS_MCEERR_AR"
    gpa = vmm.hva_to_gpa(vmm_sig["si_addr"])
    assert gpa == 0x4400_0000  # the guest page of the app's VA (page-aligned si_addr)
    # the guest logs a memory CPER at the IPA of the page (QEMU records the page address)
    assert addresses(o["cper"]["vm0"]) == [gpa]
    assert sysm.guests["vm0"].machine.stage2.gpa_to_hva(gpa) == vmm_sig["si_addr"]
    # the guest kernel sends SIGBUS AR to the process at its guest VA
    app_sig = next(s for s in o["signals"] if s["target"] == "vm0:app")
    assert (app_sig["si_code"], app_sig["si_addr"]) == ("BUS_MCEERR_AR", 0x1000_0000)
    assert "Memory failure: 0x44000: recovery action for dirty LRU page: Recovered" in o["dmesg"]["vm0"]
    assert o["exposed"] == [] and r.passed


def test_second_error_before_the_guest_acks_is_qemus_abort():
    r = flow("unacked-second-error")
    o = r.outcome.to_dict()
    assert "OSPM does not acknowledge previous error, so can not record CPER for current error anymore" \
        in o["vmm_log"]["vm0"]
    assert "failed to record the error" in o["vmm_log"]["vm0"]
    assert o["vms"]["vm0"] == "stopped" and o["processes"]["vmm:vm0"] == "killed"
    assert o["host"] == "running" and r.passed


# --- the other designs -------------------------------------------------------------------

def test_kvm_serror_exit_leaves_seas_to_the_sigbus_path():
    """The 2017 series proposed the syndrome exit for SErrors; SEAs kept the SIGBUS path
    (QEMU's kvm_arch_on_sigbus_vcpu came out of the same work)."""
    r = flow("guest-ue-ar", "kvm-serror-exit")
    o = r.outcome.to_dict()
    enable = next(e for e in events(r, "kvm_vm_ioctl") if e.fields["cmd"] == "KVM_ENABLE_CAP")
    assert enable.fields["arg"]["cap"].startswith("KVM_CAP_ARM_SERROR_EXIT_2017")
    assert enable.fields["ret"] == 0
    assert not events(r, "kvm_exit_to_vmm")  # no exit to user space for an SEA
    up = flow("guest-ue-ar").outcome.to_dict()
    for key in ("host", "vms", "processes", "exposed"):
        assert o[key] == up[key], key
    assert [s["si_code"] for s in o["signals"]] == [s["si_code"] for s in up["signals"]]


def test_kvm_serror_exit_terminates_a_guest_whose_kernel_took_the_serror():
    """The 2017 proposal's classification: a categorized UER SError taken while the guest
    was at EL1 (its SVC's entry, where the IESB synchronized it) terminates the guest:
    KVM_RUN fails, QEMU stops the VM; nothing goes to user space."""
    r = flow("guest-serror-esb", "kvm-serror-exit")
    o = r.outcome.to_dict()
    assert [e.fields["action"] for e in events(r, "kvm_handle_guest_sei")] == ["terminate"]
    assert not [e for e in events(r, "kvm_userspace_exit") if e.fields["reason"] == "KVM_EXIT_EXCEPTION"]
    assert "kvm run failed -1" in o["vmm_log"]["vm0"] and o["vms"]["vm0"] == "stopped"
    assert o["host"] == "running" and o["exposed"] == []


def test_kvm_serror_exit_from_guest_user_space_exits_with_a_recoverable_syndrome():
    """...while one taken from the guest's EL0 exits to user space with the syndrome KVM
    chose (UER | DFSC 0x11, not the raw ESR_EL2) and an address from FAR/HPFAR, which an
    SError does not write: QEMU records a CPER at a stale address and injects the vSError;
    the Linux guest's do_serror calls UER fatal and panics. The syndrome KVM chose has the
    raw one's ISS, so the guest's ESR_EL1 is ESR_EL2's value: reported, by value."""
    text = (files("rasflow.scenario.builtin") / "guest-serror-esb.toml").read_text()
    r = run(parse_scenario(text.replace('["svc", 0],', ""), "no-svc.toml"), policy="kvm-serror-exit")
    o = r.outcome.to_dict()
    assert [e.fields["action"] for e in events(r, "kvm_handle_guest_sei")] == ["user"]
    raw = next(e for e in events(r, "kvm_exit") if e.fields["exit_code"] == "ARM_EXCEPTION_EL1_SERROR")
    payload = next(e for e in events(r, "kvm_userspace_exit")
                   if e.fields["reason"] == "KVM_EXIT_EXCEPTION").fields["payload"]
    sent = uapi.KvmExitSError2017.decode(bytes.fromhex(payload))
    assert sent.syndrome_info == 0xC11 != raw.fields["esr"]
    device_pa = events(r, "device_error")[0].fields["pa"]
    recorded = addresses(o["cper"]["vmm:vm0"])
    assert recorded and device_pa not in recorded  # FAR/HPFAR are not written by an SError
    assert o["exposed"] == [{"what": "ESR_EL2", "to": "guest:vm0", "where": "ESR_EL1"}]
    assert o["vms"]["vm0"] == "panic"


@pytest.mark.parametrize("iss, el, how", [
    (0x1000000, 0, "impdef"), (0xC00, 0, "impdef"),  # IDS; DFSC not 0x11
    (0x011, 0, "panic"), (0x411, 1, "terminate"), (0xC11, 0, "user"), (0xC11, 1, "terminate"),
    (0x811, 0, "ignore"), (0x1811, 1, "ignore"),  # UEO, CE
])
def test_kvm_serror_exit_classification(iss, el, how):
    from rasflow.kvm.sei_2017 import sei_2017_class

    assert sei_2017_class(0x2F << 26 | 1 << 25 | iss, 0 if el == 0 else 0x3C5) == how


def test_kvm_serror_exit_leaves_host_processes_the_upstream_path():
    r = flow("host-process-ue", "kvm-serror-exit")  # no VM: the host path is the upstream one
    assert r.outcome.processes["host:db"] == "killed"


def test_sea_to_user_exit_with_masked_esr_and_ext_dabt_injection():
    r = flow("guest-ue-ar", "sea-to-user", firmware_first=False)  # host APEI cannot claim it
    o = r.outcome.to_dict()
    payload = events(r, "kvm_exit_to_vmm")[0].fields["payload"]
    raw = events(r, "kvm_exit")[0].fields["esr"]
    sea = uapi.KvmExitArmSea(**{k: v for k, v in payload.items() if k in ("flags", "esr", "gva", "gpa")})
    assert events(r, "kvm_exit_to_vmm")[0].fields["reason"] == "KVM_EXIT_ARM_SEA"
    assert sea.esr == raw & (0xFC00_0000 | 1 << 25 | 0x7 << 8 | 1 << 6 | 0x3F | 3 << 11)
    assert sea.gva_valid and sea.gva == 0x1000_0040 and sea.gpa_valid
    ioctl = next(e for e in events(r, "kvm_vcpu_ioctl") if e.fields["cmd"] == "KVM_SET_VCPU_EVENTS")
    assert ioctl.fields["arg"]["ext_dabt_pending"] == 1 and ioctl.fields["ret"] == 0
    assert addresses(o["cper"]["vm0"]) == [sea.gpa]
    assert o["processes"]["vm0:app"] == "killed" and o["vms"]["vm0"] == "running"
    assert o["exposed"] == [  # the ABI hands the VMM the masked ESR_EL2 and FAR_EL2 (gva)
        {"what": "ESR_EL2", "to": "vmm:vm0", "where": "kvm_run (KVM_EXIT_ARM_SEA)"},
        {"what": "FAR_EL2", "to": "vmm:vm0", "where": "kvm_run (KVM_EXIT_ARM_SEA)"}]


def test_delegated_agent_gets_the_syndrome_and_kills_the_process():
    r = flow("guest-ue-ar", "delegated")
    o = r.outcome.to_dict()
    assert events(r, "kvm_delegate")
    entry = [e for e in events(r, "exception_entry") if e.fields["el"] == 1][0]
    assert entry.fields["esr"] >> 26 == 0x24 and entry.fields["far"] == 0x1000_0040
    assert o["processes"]["vm0:app"] == "killed" and o["vms"]["vm0"] == "running"


# --- guest SError with a syndrome chosen by the VMM ----------------------------------------

def test_user_chosen_vserror_syndrome_reaches_guest_esr_el1():
    r = flow("guest-serror-user-esr")
    entry = next(e for e in r.events if e.name == "kvm_entry" and "vsesr_el2" in e.fields)
    assert entry.fields["vsesr_el2"] == UER_DFSC_11
    taken = next(e for e in events(r, "exception_entry") if e.fields.get("virtual"))
    assert taken.fields["esr"] == 0x2F << 26 | 1 << 25 | UER_DFSC_11
    assert "SError Interrupt on CPU0, code 0x00000000be000c11 -- SError" in r.outcome.dmesg["vm0"]
    assert r.passed


@pytest.mark.parametrize("ras,esr,want", [(True, UER_DFSC_11, 0), (True, 1 << 25 | UER_DFSC_11, -EINVAL),
                                          (False, UER_DFSC_11, -EINVAL)])
def test_set_vcpu_events_validation(ras, esr, want):
    sc = load_scenario("guest-serror-user-esr")
    sc = dataclasses.replace(sc, vms=(dataclasses.replace(sc.vms[0], ras=ras),),
                             faults=(dataclasses.replace(sc.faults[0], esr=esr),))
    r = run(sc)
    ioctl = next(e for e in events(r, "kvm_vcpu_ioctl") if e.fields["cmd"] == "KVM_SET_VCPU_EVENTS")
    assert ioctl.fields["ret"] == want
    assert r.outcome.vms["vm0"] == ("panic" if want == 0 else "running")


# --- host processes ----------------------------------------------------------------------

SHARED = """
duration = "1ms"
[host]
early_kill = {early}
[[host.processes]]
name = "db"
page = "anon_dirty"
cpu = 0
program = [["store", 0x10000040, 1], ["sleep", "2us"], ["load", 0x10000040], ["sleep", "5us"]]
[[host.processes]]
name = "peer"
share = "db"
cpu = 1
program = [["load", 0x10000040], ["sleep", "20us"]]
[[faults]]
at = "1us"
kind = "memory-ue"
target = "host:db:0x10000040"
consume = "none"
"""


@pytest.mark.parametrize("early", [False, True])
def test_host_process_ue_ar_to_it_alone_ao_to_sharer_only_with_early_kill(early):
    r = flow(SHARED.format(early=str(early).lower()))
    sig = {(s["target"], s["si_code"]) for s in r.outcome.signals}
    assert ("host:db", "BUS_MCEERR_AR") in sig
    assert (("host:peer", "BUS_MCEERR_AO") in sig) == early
    assert r.outcome.processes["host:peer"] == ("killed" if early else "running")
    assert r.outcome.host == "running"


# --- the other kinds of error -------------------------------------------------------------

def test_patrol_scrub_action_optional():
    r = flow("patrol-scrub-ao")
    assert [(s["target"], s["si_code"]) for s in r.outcome.signals] == [("host:db", "BUS_MCEERR_AO")]
    assert r.passed and flow("patrol-scrub-ao-late").passed


def test_corrected_error_via_polled_ghes_interrupts_nobody():
    r = flow("corrected-polled")
    o = r.outcome.to_dict()
    assert o["signals"] == [] and len(o["cper"]["host"]) == 1
    assert any("It has been corrected by h/w and requires no further action" in line
               for line in o["dmesg"]["host"])
    assert all(e.fields["el"] != 2 or e.fields["exception"] != "sync" for e in events(r, "exception_entry"))


def test_fatal_error_panics_the_host_with_the_kernels_message():
    r = flow("fatal-uc")
    log = r.outcome.dmesg["host"]
    assert any(line.startswith("SError Interrupt on CPU0, code 0x") for line in log)
    assert log[-1] == "Kernel panic - not syncing: Asynchronous SError Interrupt"
    assert r.outcome.host == "panic" and r.outcome.vms == {"vm0": "stopped"}


def test_kernel_page_ue_panics():
    r = flow("kernel-page-ue")
    assert r.outcome.host == "panic"
    assert "Kernel panic - not syncing: Fatal exception" in r.outcome.dmesg["host"]


def test_cache_error_with_pa_goes_to_memory_failure_at_that_pa():
    r = flow("cache-error-pa")
    mf = events(r, "memory_failure", "host")
    assert [e.fields["pfn"] for e in mf] == [0x60000000 >> 12]


def test_tlb_error_is_logged_as_unhandled_processor_error_type():
    r = flow("tlb-error")
    assert "[Firmware Warn]: GHES: Unhandled processor error type 0x04: TLB error" in r.outcome.dmesg["host"]
    assert not events(r, "memory_failure")


def test_vmm_memory_ue_kills_the_vmm():
    r = flow("vmm-memory-ue")
    assert r.outcome.vms["vm0"] == "stopped" and r.outcome.host == "running" and r.passed


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_passes_its_expectations(name):
    r = run(name)
    assert r.passed, [v for v in r.verdicts if not v[3]]


def test_runs_are_deterministic():
    a = run("guest-ue-ar").system.engine.trace.to_jsonl()
    b = run("guest-ue-ar").system.engine.trace.to_jsonl()
    assert a == b


SDEI = """
duration = "1ms"
[machine]
notifications = ["SEA", "SDEI", "GPIO", "POLLED"]
[[host.processes]]
name = "db"
program = [["loop", 50, [["load", 0x10000000], ["sleep", "200ns"]]]]
[[faults]]
at = "1us"
kind = "tlb"
target = "cpu:0"
aet = "UEO"
"""


def test_sdei_notification_reaches_ghes_and_completes():
    r = flow(SDEI)
    names = [e.name for e in r.events]
    i = names.index("sdei_dispatch_event")
    assert names[i:].index("ghes_sdei_callback") < names[i:].index("sdei_event_complete")
    assert "[Firmware Warn]: GHES: Unhandled processor error type 0x04: TLB error" in r.outcome.dmesg["host"]
    assert r.outcome.processes["host:db"] == "running" and r.outcome.host == "running"


def test_qmp_inject_ghes_v2_error_reaches_the_guest_through_the_ged():
    import base64

    from rasflow.formats import cper
    from rasflow.formats.cper.memory import CPER_MEM_VALID_PA, CperSecMemErr
    from rasflow.scenario.system import System

    s = System(cpus=2)
    s.add_vm("vm0")
    s.add_process("vm0", "app", program=(("loop", 100, (("load", 0x1000_0000), ("sleep", 100))),))
    est = cper.build_estatus([CperSecMemErr(validation_bits=CPER_MEM_VALID_PA,
                                            physical_addr=0x5000_0000)], error_severity=2)
    payload = base64.b64encode(est.encode()).decode()
    replies = []
    vmm = s.vmms["vm0"]
    s.engine.schedule(3000, lambda: replies.append(vmm.inject_ghes_v2_error(payload)))
    s.engine.schedule(4000, lambda: replies.append(vmm.inject_ghes_v2_error("not base64!")))
    s.start()
    s.run(until=100_000)
    assert replies[0] == {"return": {}} and "invalid base64" in replies[1]["error"]["desc"]
    virq = next(e for e in s.engine.trace if e.name == "exception_entry" and e.fields.get("virtual"))
    assert (virq.fields["el"], virq.fields["exception"], virq.fields["intid"]) == (1, "irq", 41)
    log = s.guests["vm0"].dmesg
    assert "{1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 1" in log
    assert "{1}[Hardware Error]:   physical_address: 0x0000000050000000" in log
    # the guest acked: a second record can be written
    assert vmm.read_guest_u64(vmm.ghes.hw_errors.read_ack_register_slot(1)) == 1
    assert s.tasks["vm0:app"][1].alive


HUGE = """
duration = "1ms"
[[vms]]
name = "vm0"
hugepages = true
[[vms.processes]]
name = "app"
program = [["store", 0x10000000, 1], ["store", 0x10001000, 1], ["sleep", "2us"],
           ["load", 0x10001040], ["sleep", "5us"]]
[[faults]]
at = "1us"
kind = "memory-ue"
target = "vm0:app:0x10001040"
consume = "none"
"""


def test_hugetlb_backed_guest_gets_the_huge_pages_address():
    """Guest RAM in 2 MiB hugetlbfs folios: the host signals the folio's HVA with
    si_addr_lsb 21, and QEMU records that address: the guest hears of its first 4 KiB page,
    not the one that failed."""
    r = flow(HUGE)
    vmm_sig = next(s for s in r.outcome.signals if s["target"] == "vmm:vm0")
    sig = next(e for e in events(r, "signal_generate", "host") if e.fields["sig"] == 7)
    assert sig.fields["addr_lsb"] == 21 and vmm_sig["si_addr"] % (2 << 20) == 0
    assert "Memory failure: 0x44201: recovery action for huge page: Recovered" in r.outcome.dmesg["host"]
    fault = events(r, "fault")[0].fields
    assert fault["ipa"] == 0x4400_1040
    assert addresses(r.outcome.cper["vm0"]) == [0x4400_0000]  # the folio's first page
    app = next(s for s in r.outcome.signals if s["target"] == "vm0:app")
    assert app["si_addr"] == 0x1000_0000 != fault["va"] & ~0xFFF


STORE = """
duration = "1ms"
[[vms]]
name = "vm0"
[[vms.processes]]
name = "app"
program = [["store", 0x10000040, 1], ["sleep", "2us"], ["store", 0x10000040, 2], ["sleep", "5us"]]
[[faults]]
at = "1us"
kind = "memory-ue"
target = "vm0:app:0x10000040"
consume = "none"
"""


def test_guest_store_to_poison_is_logged_by_the_host_through_its_gsiv_source():
    """The write-back SError (UEO) is ignored by KVM, but the firmware's CPER in the GPIO
    source interrupts the CPU while the guest runs: the guest exits, the host takes the
    interrupt, logs the record and runs memory_failure. QEMU asked for early kill for itself
    (qemu_init_sigbus: PR_MCE_KILL_EARLY), so it hears at once, by BUS_MCEERR_AO, and only
    marks the page poisoned (kvm_arch_on_sigbus_vcpu tells the guest nothing of an AO)."""
    r = flow(STORE)
    handled = [e for e in events(r, "irq_handler", "host") if e.fields["handled"]]
    assert handled and len(r.outcome.cper["host"]) == 1
    assert "Memory failure: 0x44002: recovery action for dirty LRU page: Recovered" in r.outcome.dmesg["host"]
    assert [(s["target"], s["si_code"]) for s in r.outcome.signals] == \
        [("vmm:vm0", "BUS_MCEERR_AO")]
    assert [e.fields["gpa"] for e in events(r, "kvm_hwpoison_page_add")] == [0x4400_0000]
    assert r.outcome.cper["vm0"] == [] and r.outcome.processes["vm0:app"] == "running"


def test_public_api_returns_the_outcome():
    o = rasflow.run("host-process-ue", policy="upstream", seed=0)
    d = o.to_dict()
    assert set(d) >= {"host", "vms", "processes", "signals", "cper", "exposed", "containment_ns",
                      "trace_events"}
    assert d["processes"]["host:db"] == "killed" and o.passed and len(o.events) == d["trace_events"]


# --- a guest touching a page the host already poisoned ---------------------------------------

def test_stage2_fault_on_a_poisoned_page_is_kvm_send_hwpoison_signal():
    """guest-page-scrubbed: the scrub's AO reaches QEMU at once (its own early kill); the
    guest's load then misses stage 2, and user_mem_abort() finds the hwpoison entry:
    SIGBUS BUS_MCEERR_AR at the page's HVA to the vCPU thread, QEMU's guest CPER at the
    page's guest address, the guest's own BUS_MCEERR_AR to its process."""
    r = flow("guest-page-scrubbed")
    o = r.outcome.to_dict()
    vmm = r.system.vmms["vm0"]
    prctl = events(r, "sys_prctl", "host")[0].fields
    assert (prctl["option"], prctl["arg3"], prctl["ret"]) == ("PR_MCE_KILL", "PR_MCE_KILL_EARLY", 0)
    fault = events(r, "fault")[0].fields
    page_gpa = fault["ipa"] & ~0xFFF
    # the load: a stage-2 translation fault taken to EL2 with the IPA in HPFAR_EL2
    exit_ = next(e for e in events(r, "kvm_exit") if e.fields["exit_code"] == "ARM_EXCEPTION_TRAP")
    assert exit_.fields["esr"] >> 26 == 0x24 and exit_.fields["esr"] & 0x3F == 0x07
    assert (exit_.fields["hpfar"] >> 4) & ((1 << 40) - 1) == page_gpa >> 12
    sent = events(r, "kvm_send_hwpoison_signal")[0].fields
    assert sent["hva"] == vmm.gpa_to_hva(page_gpa) and sent["lsb"] == 12
    sigs = [(s["target"], s["si_code"], s["si_addr"]) for s in o["signals"]]
    assert sigs == [("vmm:vm0", "BUS_MCEERR_AO", sent["hva"]),
                    ("vmm:vm0", "BUS_MCEERR_AR", sent["hva"]),
                    ("vm0:app", "BUS_MCEERR_AR", 0x1000_0000)]
    assert addresses(o["cper"]["vm0"]) == [page_gpa]
    assert len(events(r, "kvm_hwpoison_page_add")) == 1  # QEMU records a page once
    assert o["vms"] == {"vm0": "running"} and o["processes"]["vm0:app"] == "killed"
    assert o["host"] == "running" and r.passed


def test_kernel_first_vector_esb_defers_a_guest_serror_into_disr():
    """guest-serror-kernel-first-disr: the IRQ exit's IESB makes the in-flight SError pending
    at EL2, masked; KVM's vector ESB puts it in DISR_EL1; KVM handles disr_to_esr(DISR_EL1)."""
    from rasflow.formats.arm.kernel import disr_to_esr

    r = flow("guest-serror-kernel-first-disr")
    ev = r.events
    irq = next(i for i, e in enumerate(ev) if e.name == "exception_entry"
               and e.fields["exception"] == "irq" and e.fields["el"] == 2 and e.fields["from_el"] == 0)
    sync = next(e for e in ev[irq:] if e.name == "serror_pending")
    assert sync.fields["how"] == "synchronized" and sync.time == ev[irq].time
    esb = next(e for e in ev[irq:] if e.name == "esb_operation")
    handled = next(e for e in ev[irq:] if e.name == "kvm_handle_guest_serror")
    assert handled.fields["esr"] == disr_to_esr(esb.fields["disr"])
    assert not [e for e in ev if e.name == "exception_entry" and e.fields["exception"] == "serror"
                and e.fields["el"] == 2]  # deferred, never taken at EL2
    assert r.passed
