"""The seed example at the hardware layer: an EL0 access to device memory raises an
SError that arrives late, after the next ``svc`` has been issued."""

from __future__ import annotations

from hw.hwhelpers import Recorder
from rasflow.formats.arm import decode_register
from rasflow.formats.arm.esr import decode_esr
from rasflow.formats.arm.sysreg import HCR_EL2
from rasflow.hw import arch
from rasflow.hw.arch import serror_syndrome
from rasflow.hw.pe import DAIF_ALL

UART = 0x0900_0000
PROGRAM = [("load", UART), ("svc", 0), ("load", 0x4000_0000)]


class KernelEntry:
    """An EL1 handler doing what the kernel's entry code does first: ESB, then read
    DISR_EL1 (the deferred SError), then handle the SVC and return."""

    def __init__(self):
        self.disr = []
        self.entries = []

    def on_exception(self, pe, e):
        self.entries.append(e)
        pe.esb()
        self.disr.append(pe.read_sysreg("DISR_EL1"))
        pe.eret(e.elr, e.spsr)


def test_kernel_first_esb_at_el1_entry_defers_the_late_serror(make_machine):
    """Kernel first (SCR_EL3.EA=0): the device SError is still in flight when the SVC is
    taken; the ESB at the EL1 entry synchronizes it, finds it masked (PSTATE.A=1, target
    EL1: Table D1-23) and defers it into DISR_EL1 with the device's syndrome (A=1,
    AET=UER, DFSC=0x11); no SError exception is taken."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    kernel = KernelEntry()
    pe.install(1, kernel)
    m.inject("device-serror", pa=UART, delay_ns=5, aet="UER")
    proc = pe.run(PROGRAM, el=0)
    m.engine.run()
    assert proc.value == "done"
    assert [e.kind for e in kernel.entries] == ["sync"]
    assert decode_esr(kernel.entries[0].esr).ec == 0x15
    disr = decode_register("disr", kernel.disr[0]).fields
    assert (disr["A"], disr["IDS"], disr["AET"], disr["EA"], disr["DFSC"]) == (1, 0, 3, 0, 0x11)
    names = [(e.time, e.name) for e in m.engine.trace if e.component == "cpu0"]
    svc_t = next(t for t, n in names if n == "exception_entry")
    pending_t = next(t for t, n in names if n == "serror_pending")
    assert svc_t == pending_t == 1 < 5  # arrived (synchronized) after the svc, before 5 ns
    assert m.engine.trace.named("serror_pending")[0].fields["how"] == "synchronized"
    assert m.node("bus0").valid_records() == [0]


class Firmware:
    """A stand-in EL3: logs the SError and fakes an SError entry at EL2 (TF-A style:
    ESR/ELR/SPSR_EL2 from the EL3 registers, ERET to VBAR_EL2 + 0x580)."""

    def __init__(self):
        self.entries = []

    def on_exception(self, pe, e):
        self.entries.append(e)
        r = pe.regs
        r["ESR_EL2"], r["ELR_EL2"], r["SPSR_EL2"] = r["ESR_EL3"], r["ELR_EL3"], r["SPSR_EL3"]
        mode = arch.spsr_decode(r["SPSR_EL3"])
        r["ELR_EL3"] = r["VBAR_EL2"] + arch.vector_offset(2, mode[0], mode[1], "serror")
        r["SPSR_EL3"] = arch.spsr_encode(2, 1, DAIF_ALL)
        pe.eret()


class Hypervisor:
    """A test EL2 handler (KVM comes later): pend a virtual SError with a chosen VSESR_EL2."""

    def __init__(self, vsesr):
        self.vsesr, self.entries = vsesr, []

    def on_exception(self, pe, e):
        self.entries.append(e)
        pe.write_sysreg("VSESR_EL2", self.vsesr)
        pe.write_sysreg("HCR_EL2", pe.read_sysreg("HCR_EL2") | arch.HCR_VSE)
        pe.eret()


def _firmware_first(make_machine, guest, **kw):
    m = make_machine(firmware_first=True,
                     hcr_el2=HCR_EL2.encode(RW=1, VM=1, AMO=1, IMO=1, FMO=1), **kw)
    pe = m.pes[0]
    fw, hyp = Firmware(), Hypervisor(serror_syndrome("UEO"))
    pe.install(3, fw)
    pe.install(2, hyp)
    pe.install(1, guest)
    m.inject("device-serror", pa=UART, delay_ns=5, aet="UER")
    proc = pe.run(PROGRAM, el=0)
    m.engine.run()
    return m, pe, fw, hyp, proc


def test_firmware_first_serror_taken_to_el3_at_esb_then_vsesr_deferred_into_vdisr(
        make_machine):
    """Firmware first (SCR_EL3.EA=1): the SError is taken to EL3 at the guest's ESB because
    PSTATE.A does not mask it below EL3 (Table D1-23); EL3 fakes an SError entry at EL2;
    EL2 sets HCR_EL2.VSE with a chosen VSESR_EL2; the ESB, re-executed on return
    (R_KNWBN), defers the virtual SError into VDISR_EL2 (vESBOperation), which the guest
    reads as DISR_EL1."""
    guest = KernelEntry()
    m, pe, fw, hyp, proc = _firmware_first(make_machine, guest)
    assert proc.value == "done"
    e3 = fw.entries[0]
    assert (e3.kind, e3.from_el, e3.target_el) == ("serror", 1, 3)
    assert decode_esr(e3.esr).fields["AET"] == 3
    assert hyp.entries[0].kind == "serror" and hyp.entries[0].from_el == 1
    vdisr = decode_register("vdisr", guest.disr[0]).fields
    assert (vdisr["A"], vdisr["AET"]) == (1, 2)  # the VSESR_EL2 the hypervisor chose
    assert pe.regs["DISR_EL1"] == 0 and not pe.regs["HCR_EL2"] & arch.HCR_VSE
    names = [e.name for e in m.engine.trace if e.component == "cpu0"]
    assert names.index("vesb_operation") > names.index("exception_entry")


def test_firmware_first_guest_unmasks_and_takes_the_virtual_serror(make_machine):
    """With SCTLR_EL1.IESB=1 the SVC entry itself synchronizes the SError, which goes to
    EL3 first (returning to the EL1 vector); if the guest then unmasks PSTATE.A instead of
    running an ESB, it takes the virtual SError at EL1 (offset 0x380) with
    ESR_EL1 = EC 0x2F | VSESR_EL2, and VSE is cleared."""
    seen = []

    def guest_handler(pe, e):
        seen.append(e)
        if len(seen) == 1:  # the SVC
            pe.daifclr("A")
            pe.eret(e.elr, e.spsr)
        else:
            pe.eret()

    m, pe, fw, hyp, proc = _firmware_first(make_machine, Recorder(guest_handler), iesb=True)
    assert proc.value == "done"
    assert [e.kind for e in seen] == ["sync", "serror"] and seen[1].vector_offset == 0x380
    assert decode_esr(fw.entries[0].esr).fields["IESB"] == 1
    esr = decode_esr(seen[1].esr)
    assert (esr.ec, esr.il, esr.iss) == (0x2F, 1, serror_syndrome("UEO"))
    assert not pe.regs["HCR_EL2"] & arch.HCR_VSE and len(fw.entries) == 1
