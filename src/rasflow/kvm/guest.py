"""vCPU state through the ioctls (arch/arm64/kvm/guest.c): KVM_{GET,SET}_ONE_REG
(kvm_arm_get_reg / kvm_arm_set_reg) and KVM_{GET,SET}_VCPU_EVENTS
(__kvm_arm_vcpu_get_events / __kvm_arm_vcpu_set_events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..formats.linux import kvm as uapi
from ..formats.linux.errno import EINVAL, ENOEXEC
from .inject_fault import kvm_inject_sea_dabt, kvm_inject_serror_esr

if TYPE_CHECKING:
    from .vcpu import KvmVcpu

_ONE_REGS = {reg_id: (reg, hex(reg_id)) for reg_id, reg in uapi.ONE_REGS.items()}
"""KVM_{GET,SET}_ONE_REG ids: (the register, the id as the trace shows it)."""
_NO_REG = (None, None)  # an id KVM does not know: -EINVAL


def kvm_arm_one_reg(vcpu: KvmVcpu, set_: bool, reg_id: int, value: int
                    ) -> tuple[int, int | None, dict[str, Any]]:
    """kvm_arm_set_reg / kvm_arm_get_reg: (0 or -errno, the value read or None, the trace's
    view of the argument). -ENOEXEC before KVM_ARM_VCPU_INIT (kvm_arch_vcpu_ioctl())."""
    reg, hex_id = _ONE_REGS.get(reg_id, _NO_REG)
    ret, out = 0, None
    if not vcpu.initialized:
        ret, reg = -ENOEXEC, None
    elif reg is None:
        ret = -EINVAL
    elif set_:
        if reg == "PC":
            vcpu.pc = value
        elif reg == "PSTATE":
            vcpu.pstate = value
        else:
            vcpu.sysregs[reg] = value
    else:
        value = out = (vcpu.pc if reg == "PC" else vcpu.pstate if reg == "PSTATE"
                       else vcpu.sysregs.get(reg, 0))
    decoded = ({"id": hex(reg_id), "reg": None} if reg is None
               else {"id": hex_id, "reg": reg, "value": value})
    return ret, out, decoded


def kvm_arm_vcpu_set_events(vcpu: KvmVcpu, arg: bytes) -> tuple[int, dict[str, Any]]:
    """KVM_SET_VCPU_EVENTS (the rules: KvmVcpuEvents.validate). v6.17+: ext_dabt_pending is
    injected and committed before the SError checks, so it stays injected when they fail."""
    ev = uapi.KvmVcpuEvents.decode(arg)
    ras = vcpu.vm.guest_ras
    ret = ev.validate(ras, initialized=vcpu.initialized)
    if ev.ext_dabt_pending and ev._replace(serror_pending=0).validate(
            ras, initialized=vcpu.initialized) == 0:
        kvm_inject_sea_dabt(vcpu)
    esr = ev.injected_esr() if ret == 0 else None
    if esr is not None:
        kvm_inject_serror_esr(vcpu, esr)
    return ret, ev.to_dict()


def kvm_arm_vcpu_get_events(vcpu: KvmVcpu) -> tuple[int, bytes | None, dict[str, Any] | None]:
    """KVM_GET_VCPU_EVENTS: -ENOEXEC before KVM_ARM_VCPU_INIT (kvm_arch_vcpu_ioctl())."""
    if not vcpu.initialized:
        return -ENOEXEC, None, None
    ev = uapi.KvmVcpuEvents.get_events(bool(vcpu.hcr_el2 & (1 << 8)), vcpu.vsesr_el2,
                                       vcpu.vm.guest_ras)
    return 0, ev.encode(), ev.to_dict()
