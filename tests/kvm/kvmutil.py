"""A small port of the kernel's KVM selftest library (tools/testing/selftests/kvm/lib/
kvm_util.c, lib/arm64/processor.c) onto the model: a host with KVM and nothing else, a user
task that drives ``/dev/kvm`` with ioctls and struct bytes only, and a stand-in guest at EL1.

The selftests load guest code into guest memory; the model's guest code is Python run by the
PE at EL1 (as the model's guest kernel is). The stand-in guest is installed the way a guest
kernel installs itself (its vectors on each vCPU, its first code at the first entry), runs
``guest_code(guest, pe)`` at the first entry with the vCPU's reset PSTATE (EL1h, DAIF
masked), and records every exception it takes. ``GUEST_DONE`` is a guest shutdown: the
vCPU leaves by HVC and KVM_RUN returns with KVM_EXIT_SYSTEM_EVENT (the model has no MMIO
ucall page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasflow.formats.linux import kvm as uapi
from rasflow.hw.arch import SPSR_ELH_MASKED, spsr_decode
from rasflow.scenario.system import System

GUEST_RAM = 0x8000_0000  # START_GVA of sea_to_user.c, identity-mapped here
GUEST_RAM_SIZE = 0x4000_0000  # its VM_MEM_SIZE (pages are faulted in on first touch)
GUEST_TEXT = GUEST_RAM  # where the stand-in guest's instructions execute
HVA = 0x7F00_0000_0000


class StandInGuest:
    """The guest side of a selftest (``guest_code`` and the handlers it installs)."""

    def __init__(self, view, guest_code: Callable[[StandInGuest, Any], None],
                 handlers: dict[str, Callable[[StandInGuest, Any, Any], None]] | None = None):
        self.view, self.guest_code = view, guest_code
        self.handlers = handlers or {}
        self.taken: list = []  # the exception entries, in order
        self.done = False
        self.failed: str | None = None
        for slot in view.pes:
            slot.install(1, self)
        view.kernel = self  # what the first KVM_RUN enters (VmView.enter -> schedule)

    def mmu(self, va: int):
        """Stage 1 off (VA = IPA, as the selftests' identity maps), then stage 2."""
        return self.view.stage2(va), va

    def schedule(self, pe) -> None:
        ps = pe.pstate
        ps.el, ps.sp, ps.daif, ps.il = spsr_decode(SPSR_ELH_MASKED[1])  # vCPU reset PSTATE
        pe.pc = GUEST_TEXT
        self.guest_code(self, pe)

    def execute(self, pe, insn: tuple, then: Callable[[StandInGuest, Any], None] | None = None
                ) -> bool:
        """One instruction at the guest's PC; ``then`` is the code after it, run when the
        vCPU returns there (after an exit to the hypervisor, say). True if it retired here
        and now: the guest code goes on; False if it took an exception (the code after it
        does not run, as a faulting instruction does not retire)."""
        pc = pe.pc
        if then is not None:
            pe.install_entry(1, pc + 4, lambda p: then(self, p))
        pe.execute(insn, self.mmu)
        return pe.pc == pc + 4 and pe.pstate.el == 1

    def on_exception(self, pe, exc) -> None:
        self.taken.append(exc)
        handler = self.handlers.get(exc.kind)
        if handler is None:
            self.fail(f"unexpected {exc.kind} exception, ESR_EL1 {exc.esr}")
            return
        handler(self, pe, exc)

    def GUEST_DONE(self) -> None:
        self.done = True
        self.view.halt("GUEST_DONE")

    def fail(self, why: str) -> None:
        self.failed = why
        self.view.halt(why)


class Selftest:
    """``vm_create_with_one_vcpu()`` on a model host: every step an ioctl with struct bytes."""

    def __init__(self, *, ras: bool = True, firmware_first: bool = False, init: bool = True):
        self.sys = System(cpus=2, ras=ras, firmware_first=firmware_first)
        self.host, self.engine = self.sys.host, self.sys.engine
        self.task = self.host.spawn("selftest", cpu=0)
        self.kvm_fd = self.host.sys_open(self.task, "/dev/kvm")
        self.vm_fd = self.ioctl(self.kvm_fd, uapi.KVM_CREATE_VM)
        self.host.sys_mmap(self.task, HVA, GUEST_RAM_SIZE)
        region = uapi.KvmUserspaceMemoryRegion(slot=1, flags=0, guest_phys_addr=GUEST_RAM,
                                               memory_size=GUEST_RAM_SIZE, userspace_addr=HVA)
        assert self.ioctl(self.vm_fd, uapi.KVM_SET_USER_MEMORY_REGION, region.encode()) == 0
        self.vcpu_fd = self.ioctl(self.vm_fd, uapi.KVM_CREATE_VCPU, 0)
        if init:
            self.vcpu_init()
        self.run_page = self.host.sys_mmap_fd(self.task, self.vcpu_fd)

    # --- ioctls -------------------------------------------------------------------------
    def ioctl(self, fd: int, cmd: int, arg: Any = 0):
        return self.host.sys_ioctl(self.task, fd, cmd, arg)

    def vcpu_init(self) -> int:
        init = uapi.KvmVcpuInit(target=uapi.KVM_ARM_TARGET_GENERIC_V8, features=bytes(28))
        return self.ioctl(self.vcpu_fd, uapi.KVM_ARM_VCPU_INIT, init.encode())

    def kvm_has_cap(self, cap: int) -> int:
        return self.ioctl(self.kvm_fd, uapi.KVM_CHECK_EXTENSION, cap)

    def vm_enable_cap(self, cap: int, flags: int = 0) -> int:
        arg = uapi.KvmEnableCap(cap=cap, flags=flags, args0=0, args1=0, args2=0, args3=0,
                                pad=bytes(64))
        return self.ioctl(self.vm_fd, uapi.KVM_ENABLE_CAP, arg.encode())

    def vcpu_events_set(self, **fields) -> int:
        ev = uapi.KvmVcpuEvents(**{"serror_pending": 0, "serror_has_esr": 0,
                                   "ext_dabt_pending": 0, "pad": bytes(5), "serror_esr": 0,
                                   "reserved": bytes(48), **fields})
        return self.ioctl(self.vcpu_fd, uapi.KVM_SET_VCPU_EVENTS, ev.encode())

    def vcpu_events_get(self):
        return self.ioctl(self.vcpu_fd, uapi.KVM_GET_VCPU_EVENTS)

    def vcpu_run(self) -> int:
        """KVM_RUN until it returns to this task (the engine runs the guest meanwhile)."""
        out: list[int] = []

        ret = self.ioctl(self.vcpu_fd, uapi.KVM_RUN)
        if isinstance(ret, int):  # refused before entering (-ENOEXEC)
            return ret

        def thread():
            out.append((yield ret))

        self.engine.process(thread(), name="selftest:vcpu0")
        for _ in range(100_000):  # until the ioctl returns (the host's timers run on)
            if out or not self.engine._queue:
                break
            self.engine.step()
        assert out, "KVM_RUN did not return"
        return out[0]

    @property
    def exit_reason(self) -> str:
        head, _ = uapi.decode_exit(bytes(self.run_page))
        return uapi.EXIT_REASONS.get(head.exit_reason, str(head.exit_reason))

    @property
    def exit_payload(self):
        return uapi.decode_exit(bytes(self.run_page))[1]

    # --- the guest ------------------------------------------------------------------------
    def guest(self, guest_code, handlers=None) -> StandInGuest:
        view = self.sys.kvm.vms[-1].view  # where a guest kernel boots (scenario.system does too)
        return StandInGuest(view, guest_code, handlers)

    def hva_to_hpa(self, hva: int) -> int:
        """translate_hva_to_hpa() through /proc/self/pagemap: the page the host maps."""
        return self.host.user_pa(self.task, hva)
