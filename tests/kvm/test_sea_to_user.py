"""Port of the kernel's tools/testing/selftests/kvm/arm64/sea_to_user.c: KVM returns to user
space with KVM_EXIT_ARM_SEA when host APEI cannot claim a guest SEA and the VMM opted in
with KVM_CAP_ARM_SEA_TO_USER; user space then injects a synchronous external data abort
into the guest. The real test consumes a UER injected with EINJ; here the model's memory
takes the poison at the page's host physical address (what EINJ's param1 names). Driven
only through /dev/kvm ioctls and the kvm_run page."""

from __future__ import annotations

from kvm.kvmutil import GUEST_RAM, HVA, Selftest
from rasflow.formats.arm import kernel as ak
from rasflow.formats.linux import kvm as uapi

START_GVA = GUEST_RAM
EINJ_OFFSET = 0x01234BAD
EINJ_GVA = START_GVA + EINJ_OFFSET
PAGE_ADDR_MASK = ~0xFFF
ESR_ELx_INST_SYNDROME = (ak.ESR_ELx_ISV | ak.ESR_ELx_SAS | ak.ESR_ELx_SSE | ak.ESR_ELx_SRT_MASK
                         | ak.ESR_ELx_SF | ak.ESR_ELx_AR)


def test_sea_to_user():
    t = Selftest(firmware_first=False)  # nothing for host APEI to claim the SEA with
    assert t.kvm_has_cap(uapi.KVM_CAP_ARM_SEA_TO_USER) == 1  # TEST_REQUIRE(kvm_has_cap())
    seen = {}

    def guest_code(g, pe):
        if g.execute(pe, ("load", EINJ_GVA)):  # consumes the error: an SEA
            g.fail("Poison not protected by SEA")

    def expect_sea_handler(g, pe, exc):
        esr, far = pe.read_sysreg("ESR_EL1"), pe.read_sysreg("FAR_EL1")
        seen.update(esr=esr, far=far)
        if ak.ESR_ELx_EC(esr) != ak.ESR_ELx_EC_DABT_CUR:
            g.fail(f"EC {ak.ESR_ELx_EC(esr):#x}")
        elif esr & ak.ESR_ELx_FSC_TYPE != ak.ESR_ELx_FSC_EXTABT:
            g.fail(f"FSC {esr & 0x3F:#x}")
        else:
            g.GUEST_DONE()

    guest = t.guest(guest_code, {"sync": expect_sea_handler})
    assert t.vm_enable_cap(uapi.KVM_CAP_ARM_SEA_TO_USER, 0) == 0
    # vm_inject_memory_uer(): populate, then inject at the page's host physical address
    einj_hva = HVA + EINJ_OFFSET
    assert t.host.copy_to_user(t.task, einj_hva, (0xBAADCAFE).to_bytes(8, "little")) == 0
    einj_hpa = t.hva_to_hpa(einj_hva)
    einj_gpa = EINJ_GVA  # identity stage 1 (addr_gva2gpa)
    t.sys.machine.inject("memory-ue", pa=einj_hpa)

    assert t.vcpu_run() == 0
    assert t.exit_reason == "KVM_EXIT_ARM_SEA"  # TEST_ASSERT_KVM_EXIT_REASON
    sea = t.exit_payload
    esr = sea.esr
    assert ak.ESR_ELx_EC(esr) == ak.ESR_ELx_EC_DABT_LOW
    assert esr & ak.ESR_ELx_FSC_TYPE == ak.ESR_ELx_FSC_EXTABT
    assert ak.ESR_ELx_ISS2(esr) == 0
    assert esr & ESR_ELx_INST_SYNDROME == 0
    assert esr & ak.ESR_ELx_VNCR == 0
    if not esr & ak.ESR_ELx_FnV:
        assert sea.gva == EINJ_GVA
    if sea.flags & uapi.KVM_EXIT_ARM_SEA_FLAG_GPA_VALID:
        assert sea.gpa == einj_gpa & PAGE_ADDR_MASK
    far_invalid = bool(esr & ak.ESR_ELx_FnV)

    assert t.vcpu_events_set(ext_dabt_pending=1) == 0  # vcpu_inject_sea()
    assert t.vcpu_run() == 0
    assert guest.failed is None and guest.done  # "Guest done gracefully!"
    assert t.exit_reason == "KVM_EXIT_SYSTEM_EVENT"
    if far_invalid:
        assert seen["esr"] & ak.ESR_ELx_FnV
    else:
        assert seen["esr"] & ak.ESR_ELx_FnV == 0 and seen["far"] == EINJ_GVA


def test_without_the_capability_kvm_injects_an_serror():
    """The fallback the selftest's capability replaces: no KVM_ARCH_FLAG_EXIT_SEA, so the
    SEA host APEI cannot claim becomes a virtual SError (kvm_inject_serror) and KVM_RUN does
    not return for it; a guest with SErrors unmasked takes it on its way back."""
    t = Selftest(firmware_first=False)

    def guest_code(g, pe):
        pe.daifclr("A")  # local_serror_enable()
        g.execute(pe, ("load", EINJ_GVA))

    def serror(g, pe, exc):
        g.GUEST_DONE()

    guest = t.guest(guest_code, {"serror": serror})
    t.host.copy_to_user(t.task, HVA + EINJ_OFFSET, bytes(8))
    t.sys.machine.inject("memory-ue", pa=t.hva_to_hpa(HVA + EINJ_OFFSET))
    assert t.vcpu_run() == 0 and t.exit_reason == "KVM_EXIT_SYSTEM_EVENT"
    (vserror,) = guest.taken
    assert vserror.kind == "serror" and vserror.esr == 0x2F << 26 | 1 << 25 | ak.ESR_ELx_IDS
