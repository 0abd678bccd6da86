"""KVM, the hypervisor in the host kernel: ``/dev/kvm`` registered with the host kernel as a
character device, VM and vCPU file descriptors, and their ioctls with the real struct bytes.

    kvm = Kvm(host_kernel)
    # the VMM: fd = host.sys_open(task, "/dev/kvm"); host.sys_ioctl(task, fd, KVM_CREATE_VM) ...

What KVM does with a VM's errors depends only on that VM's flags, set by its VMM through
KVM_ENABLE_CAP (``kvm->arch.flags``), never on a name or a table outside the ioctls.
"""

from .arm import Kvm, KvmVm
from .vcpu import KvmVcpu
from .view import VmView

__all__ = ["Kvm", "KvmVcpu", "KvmVm", "VmView"]
