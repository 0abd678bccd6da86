"""Port of the kernel's tools/testing/selftests/kvm/arm64/external_aborts.c (all but
test_mmio_abort and test_serror_emulated: the model has no KVM_EXIT_MMIO, its accesses
carrying no instruction syndrome, and no ucall for GUEST_SYNC), the
vCPU ioctl rules the kernel's arm.c and guest.c give, and the kernel-first deferral of a
guest SError by the ESB at KVM's vector. Driven only through /dev/kvm ioctls."""

from __future__ import annotations

import pytest

from kvm.kvmutil import Selftest
from rasflow.formats.arm import kernel as ak
from rasflow.formats.linux import kvm as uapi
from rasflow.formats.linux.errno import EINVAL, ENOEXEC, ENOSYS
from rasflow.hw.arch import ISR_A

DEVICE = 0x0A00_0000  # QEMU virt's virtio-mmio window: a device the guest reaches
MMIO_ADDR = 0x0C00_0000  # no memslot, no device: the selftest's 0x8000000 is the model's GIC


def test_serror():
    """vcpu_inject_serror() before the first run: the guest sees ISR_EL1.A, unmasks SErrors
    and takes the pending SError at its current-EL SError vector (GUEST_DONE there)."""
    t = Selftest()

    def test_serror_guest(g, pe):
        if not pe.read_sysreg("ISR_EL1") & ISR_A:
            g.fail("ISR_EL1.A clear")
            return
        pe.daifclr("A")  # local_serror_enable(); isb()
        if g.execute(pe, ("esb",)):
            g.fail("Should've taken pending SError exception")

    def expect_serror_handler(g, pe, exc):
        g.GUEST_DONE()

    guest = t.guest(test_serror_guest, {"serror": expect_serror_handler})
    assert t.vcpu_events_set(serror_pending=1) == 0  # vcpu_inject_serror()
    assert t.vcpu_run() == 0
    assert guest.failed is None and guest.done
    (taken,) = guest.taken
    assert taken.vector_offset == 0x380  # VECTOR_ERROR_CURRENT (SP_ELx)


def test_serror_masked():
    """With SErrors masked the pending SError is visible in ISR_EL1 and not taken."""
    t = Selftest()

    def test_serror_masked_guest(g, pe):
        if not pe.read_sysreg("ISR_EL1") & ISR_A:
            g.fail("ISR_EL1.A clear")
            return
        g.execute(pe, ("esb",))  # isb(): nothing taken with PSTATE.A set
        g.GUEST_DONE()

    def unexpected_serror_handler(g, pe, exc):
        g.fail("Took unexpected SError exception")

    guest = t.guest(test_serror_masked_guest, {"serror": unexpected_serror_handler})
    assert t.vcpu_events_set(serror_pending=1) == 0
    assert t.vcpu_run() == 0
    assert guest.failed is None and guest.done and guest.taken == []


@pytest.mark.parametrize("ioctl", ["KVM_GET_VCPU_EVENTS", "KVM_SET_VCPU_EVENTS",
                                   "KVM_GET_ONE_REG", "KVM_SET_ONE_REG", "KVM_RUN"])
def test_vcpu_ioctls_before_vcpu_init_are_enoexec(ioctl):
    """kvm_arch_vcpu_ioctl() (arch/arm64/kvm/arm.c): -ENOEXEC until KVM_ARM_VCPU_INIT."""
    t = Selftest(init=False)
    pc = uapi.ONE_REG_IDS["PC"]
    ret = {"KVM_GET_VCPU_EVENTS": lambda: t.vcpu_events_get(),
           "KVM_SET_VCPU_EVENTS": lambda: t.vcpu_events_set(serror_pending=1),
           "KVM_GET_ONE_REG": lambda: t.ioctl(t.vcpu_fd, uapi.KVM_GET_ONE_REG, (pc, 0)),
           "KVM_SET_ONE_REG": lambda: t.ioctl(t.vcpu_fd, uapi.KVM_SET_ONE_REG, (pc, 0)),
           "KVM_RUN": lambda: t.vcpu_run()}[ioctl]()
    assert ret == -ENOEXEC
    assert t.vcpu_init() == 0


def _mmio_abort_guest(g, pe):
    g.expected_abort_pc = pe.pc
    if g.execute(pe, ("load", MMIO_ADDR)):
        g.fail("MMIO instruction should not retire")


def _expect_sea_handler(g, pe, exc):
    esr = pe.read_sysreg("ESR_EL1")
    if exc.elr != g.expected_abort_pc:
        g.fail(f"abort at {exc.elr:#x}")
    elif ak.ESR_ELx_EC(esr) != ak.ESR_ELx_EC_DABT_CUR or esr & ak.ESR_ELx_FSC_TYPE != ak.ESR_ELx_FSC_EXTABT:
        g.fail(f"ESR_EL1 {esr:#x}")
    else:
        g.GUEST_DONE()


def _unexpected_dabt_handler(g, pe, exc):
    g.fail(f"Unexpected data abort at PC: {exc.elr:#x}")


def test_mmio_nisv():
    """KVM_RUN fails with ENOSYS for an ESR_EL2.ISV=0 abort outside the memslots when user
    space has not enabled KVM_CAP_ARM_NISV_TO_USER."""
    t = Selftest()
    t.guest(_mmio_abort_guest, {"sync": _unexpected_dabt_handler})
    assert t.vcpu_run() == -ENOSYS


@pytest.mark.parametrize("serror_esr", [None, 1 << 25])
def test_mmio_nisv_abort(serror_esr):
    """ISV=0 aborts reach user space (KVM_EXIT_ARM_NISV, fault_ipa) and an injected SEA
    reaches the guest at the aborting instruction. With an SError of invalid ESR in the same
    KVM_SET_VCPU_EVENTS, the ioctl fails with -EINVAL, yet the SEA, injected and committed
    before the SError checks (__kvm_arm_vcpu_set_events, v6.17+), still reaches the guest."""
    t = Selftest()
    guest = t.guest(_mmio_abort_guest, {"sync": _expect_sea_handler})
    assert t.vm_enable_cap(uapi.KVM_CAP_ARM_NISV_TO_USER) == 0
    assert t.vcpu_run() == 0
    assert t.exit_reason == "KVM_EXIT_ARM_NISV"
    assert t.exit_payload.fault_ipa == MMIO_ADDR
    if serror_esr is None:
        assert t.vcpu_events_set(ext_dabt_pending=1) == 0  # vcpu_inject_sea()
    else:
        assert t.vcpu_events_set(ext_dabt_pending=1, serror_pending=1, serror_has_esr=1,
                                 serror_esr=serror_esr) == -EINVAL
    assert t.vcpu_run() == 0  # vcpu_run_expect_done()
    assert guest.failed is None and guest.done


def test_vm_capabilities():
    """kvm_vm_ioctl_check_extension() / kvm_vm_ioctl_enable_cap(): KVM_CAP_ARM_SEA_TO_USER is
    offered whatever the hardware; enabling a capability with flags is -EINVAL; NISV and
    SEA_TO_USER enable with 0; an unknown capability is -EINVAL."""
    for ras in (True, False):
        t = Selftest(ras=ras)
        assert t.kvm_has_cap(uapi.KVM_CAP_ARM_SEA_TO_USER) == 1
        assert t.kvm_has_cap(uapi.KVM_CAP_ARM_INJECT_SERROR_ESR) == int(ras)
        assert t.vm_enable_cap(uapi.KVM_CAP_ARM_SEA_TO_USER, flags=1) == -EINVAL
        assert t.vm_enable_cap(uapi.KVM_CAP_ARM_SEA_TO_USER) == 0
        assert t.vm_enable_cap(uapi.KVM_CAP_ARM_NISV_TO_USER) == 0
        assert t.vm_enable_cap(uapi.KVM_CAP_VCPU_EVENTS) == -EINVAL
        assert t.vm_enable_cap(uapi.KVM_CAP_ARM_DELEGATED_EA) == (0 if ras else -EINVAL)


def test_kernel_first_guest_serror_is_deferred_by_the_vector_esb_into_disr():
    """Kernel first (SCR_EL3.EA=0): a guest device access answers with an error whose SError
    is still in flight when the guest's HVC enters EL2. The entry's IESB makes it pending,
    masked at EL2; the ESB that starts KVM's vector (valid_vect, hyp-entry.S) defers it into
    DISR_EL1; __guest_exit reads it (ARM_EXIT_WITH_SERROR_BIT) and kvm_handle_guest_serror()
    gets disr_to_esr(DISR_EL1): a UER, fatal, so the guest gets an impdef virtual SError."""
    t = Selftest(firmware_first=False)

    def guest_code(g, pe):
        g.execute(pe, ("load", DEVICE))  # the device answers with an error: SError in flight
        g.execute(pe, ("hvc", 0x42), then=lambda g, pe: g.GUEST_DONE())

    guest = t.guest(guest_code, {})
    t.sys.machine.inject("device-serror", pa=DEVICE, delay_ns=5, aet="UER")
    assert t.vcpu_run() == 0 and guest.done and guest.failed is None
    trace = list(t.engine.trace)
    hvc = next(i for i, e in enumerate(trace) if e.name == "exception_entry"
               and e.fields["el"] == 2 and e.fields.get("esr", 0) >> 26 == ak.ESR_ELx_EC_HVC64)
    esb = next(e for e in trace[hvc:] if e.name == "esb_operation")
    disr = esb.fields["disr"]
    assert esb.fields["disr_decoded"]["A"] == 1 and esb.fields["disr_decoded"]["AET"] == 3
    handled = next(e for e in trace[hvc:] if e.name == "kvm_handle_guest_serror")
    assert handled.fields["esr"] == ak.disr_to_esr(disr)
    assert handled.fields["action"] == "kvm_inject_serror"
    assert not [e for e in trace if e.name == "exception_entry" and e.fields["el"] == 2
                and e.fields["exception"] == "serror"]  # deferred, never taken
