"""Memslots and stage 2: IPA -> HVA (the VMM's memslots) -> PA (the VMM's page tables,
faulted in by the host kernel), the guest's view of its physical address space, and the
stage-2 abort handling of arch/arm64/kvm/mmu.c and mmio.c (kvm_handle_guest_sea,
kvm_handle_guest_abort, user_mem_abort, kvm_send_hwpoison_signal, io_mem_abort)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, NamedTuple

from ..formats.arm import kernel as ak
from ..formats.arm.sysreg_fault import HPFAR_EL2
from ..formats.linux import kvm as uapi
from ..formats.linux.errno import EFAULT, ENOSYS
from ..formats.linux.siginfo import BUS_MCEERR_AR, SIGBUS
from ..kernel.mm.page import HPAGE_ORDER, PAGE_SHIFT
from ..kernel.task import SigInfo, force_sig_info
from . import delegated
from .inject_fault import kvm_inject_serror_esr

if TYPE_CHECKING:
    from .vcpu import KvmVcpu

PAGE = 4096
_FIPA = HPFAR_EL2.by_name["FIPA"]
_U64 = struct.Struct("<Q")


class Memslot(NamedTuple):
    """struct kvm_memory_slot: ``size`` bytes of guest RAM at ``gpa``, backed at ``hva``."""

    slot: int
    gpa: int
    size: int
    hva: int


class GuestRegion(NamedTuple):
    base: int
    size: int
    kind: str = "ram"
    name: str = "ram"


class Stage2:
    """One VM's stage-2 translation, walked the way user_mem_abort() resolves a fault:
    memslot -> HVA -> the VMM's pte (faulting the page in) -> PA."""

    def __init__(self, host, vmm_task):
        self.host, self.task = host, vmm_task
        self.slots: list[Memslot] = []

    def gpa_to_hva(self, gpa: int) -> int | None:
        """gfn_to_hva_memslot()."""
        for s in self.slots:
            if s.gpa <= gpa < s.gpa + s.size:
                return s.hva + gpa - s.gpa
        return None

    def hva_to_gpa(self, hva: int) -> int | None:
        """What QEMU's kvm_physical_memory_addr_from_host() computes from the memslots."""
        for s in self.slots:
            if s.hva <= hva < s.hva + s.size:
                return s.gpa + hva - s.hva
        return None

    def __call__(self, gpa: int) -> int | None:
        for s in self.slots:  # gpa_to_hva(), inline: every guest access comes through here
            if s.gpa <= gpa < s.gpa + s.size:
                return self.host.user_pa(self.task, s.hva + gpa - s.gpa)
        r = self.host.memory.region(gpa)  # outside RAM: a device assigned to the guest (identity mapped)
        return gpa if r is not None and r.kind == "device" else None


class GuestMemory:
    """The guest-physical address space, as the guest kernel reads and writes it."""

    def __init__(self, stage2: Stage2):
        self.stage2 = stage2

    @property
    def ram(self) -> tuple[GuestRegion, ...]:
        return tuple(GuestRegion(s.gpa, s.size) for s in self.stage2.slots)

    def region(self, gpa: int) -> GuestRegion | None:
        return next((r for r in self.ram if r.base <= gpa < r.base + r.size), None)

    def _pieces(self, gpa: int, n: int):
        while n > 0:
            pa = self.stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            k = min(n, PAGE - gpa % PAGE)
            yield pa, k
            gpa, n = gpa + k, n - k

    # Each access below resolves one stage-2 translation first when [gpa, gpa+n) lies in
    # one guest page (the common case), else goes page by page (_pieces).
    def read(self, gpa: int, n: int) -> bytes:
        stage2 = self.stage2
        if n <= PAGE - gpa % PAGE:
            pa = stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            return stage2.host.memory.read(pa, n)
        mem = stage2.host.memory
        return b"".join(mem.read(pa, k) for pa, k in self._pieces(gpa, n))

    def write(self, gpa: int, data: bytes) -> None:
        stage2 = self.stage2
        if len(data) <= PAGE - gpa % PAGE:
            pa = stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            stage2.host.memory.write(pa, data)
            return
        mem = stage2.host.memory
        off = 0
        for pa, k in self._pieces(gpa, len(data)):
            mem.write(pa, data[off:off + k])
            off += k

    def read_u64(self, gpa: int) -> int:
        stage2 = self.stage2
        if gpa % PAGE <= PAGE - 8:
            pa = stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            return stage2.host.memory.read_u64(pa)
        return _U64.unpack(self.read(gpa, 8))[0]

    def write_u64(self, gpa: int, value: int) -> None:
        stage2 = self.stage2
        if gpa % PAGE <= PAGE - 8:
            pa = stage2(gpa)
            if pa is None:
                raise _not_backed(gpa)
            stage2.host.memory.write_u64(pa, value)
            return
        self.write(gpa, _U64.pack(value))


def _not_backed(gpa: int) -> ValueError:
    return ValueError(f"guest physical {gpa:#x} is not backed")


# --- stage-2 aborts (arch/arm64/kvm/mmu.c, mmio.c) -----------------------------------------

def kvm_vcpu_get_fault_ipa(vcpu: KvmVcpu) -> int:
    """kvm_vcpu_get_fault_ipa() (arch/arm64/include/asm/kvm_emulate.h): HPFAR_EL2.FIPA
    << 12, the faulting page's IPA."""
    fipa = (vcpu.fault["hpfar_el2"] >> _FIPA.lsb) & _FIPA.max
    return fipa << 12


def kvm_handle_guest_sea(vcpu: KvmVcpu, esr: int):
    """kvm_handle_guest_sea() (v6.17+): apei_claim_sea(NULL) first; an SEA the host claimed
    resumes the guest. Otherwise, by the VM's flags: a virtual SError (host_owns_sea() --
    no RAS extension -- or no KVM_ARCH_FLAG_EXIT_SEA), or KVM_EXIT_ARM_SEA. A VM opted into
    delegation whose guest registered its agent hands every SEA to the agent."""
    kvm = vcpu.kvm
    rc = yield from kvm.host.arch.apei_claim_sea(vcpu.pe)
    vcpu.trace("kvm_handle_guest_sea", esr=esr, apei_claim_sea=rc)
    if delegated.can_delegate(vcpu):
        delegated.delegate(vcpu, esr, "sync")
        return 1
    if rc == 0:
        return 1
    if not kvm.ras or "exit_sea" not in vcpu.vm.flags:
        kvm_inject_serror_esr(vcpu, uapi.ESR_ELX_ISV)
        return 1
    return exit_arm_sea(vcpu, esr)


def exit_arm_sea(vcpu: KvmVcpu, esr: int) -> int:
    """KVM_EXIT_ARM_SEA: the sanitised ESR, gva (FAR_EL2) when FnV=0, gpa =
    kvm_vcpu_get_fault_ipa() -- a page address, as selftests/kvm/arm64/sea_to_user.c
    asserts (``gpa == einj_gpa & PAGE_ADDR_MASK``)."""
    masked = uapi.arm_sea_exit_esr(esr, guest_has_ras=vcpu.vm.guest_ras)
    gva = 0 if esr & ak.ESR_ELx_FnV else vcpu.fault["far_el2"]
    payload = uapi.KvmExitArmSea(flags=uapi.KVM_EXIT_ARM_SEA_FLAG_GPA_VALID, esr=masked,
                                 gva=gva, gpa=kvm_vcpu_get_fault_ipa(vcpu)).encode()
    vcpu.set_exit(uapi.KVM_EXIT_ARM_SEA, payload)
    return 0


def kvm_handle_guest_abort(vcpu: KvmVcpu, esr: int) -> int:
    """kvm_handle_guest_abort() for a stage-2 fault that is not an External abort (those go
    to kvm_handle_guest_sea first): the faulting page's IPA from HPFAR_EL2; an IPA no
    memslot holds is MMIO (io_mem_abort), one in guest RAM is user_mem_abort(), whose 0
    becomes 1 (resume the guest)."""
    if not ak.esr_fsc_is_translation_fault(esr):
        return -EFAULT  # "Unsupported FSC": the model's stage 2 has no permission faults
    fault_ipa = kvm_vcpu_get_fault_ipa(vcpu)
    hva = vcpu.vm.stage2.gpa_to_hva(fault_ipa)
    if hva is None:
        return io_mem_abort(vcpu, fault_ipa | (vcpu.fault["far_el2"] & (PAGE - 1)))
    ret = user_mem_abort(vcpu, fault_ipa, hva)
    return 1 if ret == 0 else ret


def user_mem_abort(vcpu: KvmVcpu, fault_ipa: int, hva: int) -> int:
    """user_mem_abort(): fault the VMM's page in (__kvm_faultin_pfn -> get_user_pages).
    A page the host poisoned gives KVM_PFN_ERR_HWPOISON: kvm_send_hwpoison_signal() with
    the vma's shift (a hugetlb vma: the huge page's), and 0, the guest retrying the access
    once the VMM has dealt with the signal; no page at all is -EFAULT."""
    kvm = vcpu.kvm
    host, task = kvm.host, vcpu.vm.stage2.task
    page = hva & ~(PAGE - 1)
    if page in task.poisoned:
        vma = task.find_vma(hva)
        huge = vma is not None and vma.state == "hugetlb"
        kvm_send_hwpoison_signal(vcpu, page, PAGE_SHIFT + HPAGE_ORDER if huge else PAGE_SHIFT)
        return 0
    if host.handle_mm_fault(task, hva) is None:
        return -EFAULT
    vcpu.trace("kvm_user_mem_abort", ipa=fault_ipa, hva=hva)
    return 0


def kvm_send_hwpoison_signal(vcpu: KvmVcpu, address: int, lsb: int) -> None:
    """send_sig_mceerr(BUS_MCEERR_AR, address, lsb, current): the vCPU thread hears of the
    poison as if it had touched the page itself; KVM_RUN then returns -EINTR."""
    vcpu.trace("kvm_send_hwpoison_signal", hva=address, lsb=lsb)
    force_sig_info(vcpu.kvm.host, vcpu.task, SigInfo(SIGBUS, BUS_MCEERR_AR, address, lsb))


def io_mem_abort(vcpu: KvmVcpu, fault_ipa: int) -> int:
    """io_mem_abort() (mmio.c) for an abort with no instruction syndrome (ISV=0, as the
    model's accesses have): KVM_EXIT_ARM_NISV when the VMM enabled
    KVM_CAP_ARM_NISV_TO_USER, else -ENOSYS (selftests/kvm/arm64/external_aborts.c,
    test_mmio_nisv and test_mmio_nisv_abort)."""
    if "return_nisv_io_abort_to_user" not in vcpu.vm.flags:
        return -ENOSYS
    iss = vcpu.fault["esr_el2"] & uapi.ESR_ELX_ISS_MASK & ~ak.ESR_ELx_ISV
    payload = uapi.KvmExitArmNisv(esr_iss=iss, fault_ipa=fault_ipa).encode()
    vcpu.set_exit(uapi.KVM_EXIT_ARM_NISV, payload)
    return 0
