"""struct kvm_vcpu_events validation as KVM_SET_VCPU_EVENTS does it, ioctl numbers, kvm_run exits."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings

from rasflow.formats import linux
from rasflow.formats.linux import EINVAL, ENOEXEC, KvmVcpuEvents


def ev(**kw) -> KvmVcpuEvents:
    return KvmVcpuEvents(**kw)


@pytest.mark.parametrize(
    "fields,has_ras,expected",
    [
        ({}, True, 0),
        ({}, False, 0),
        ({"serror_pending": 1}, False, 0),  # kvm_inject_serror(): impdef ESR, no RAS needed
        ({"serror_pending": 1, "serror_has_esr": 1, "serror_esr": 0x1D1ED}, True, 0),
        ({"serror_pending": 1, "serror_has_esr": 1, "serror_esr": 0x1D1ED}, False, -EINVAL),  # has_esr without RAS
        ({"serror_pending": 1, "serror_has_esr": 1, "serror_esr": 1 << 24}, True, 0),  # IDS (bit 24) is inside the mask
        ({"serror_pending": 1, "serror_has_esr": 1, "serror_esr": 1 << 25}, True, -EINVAL),  # above ESR_ELx_ISS_MASK
        ({"serror_pending": 1, "serror_has_esr": 1, "serror_esr": 0xBF000000}, True, -EINVAL),  # EC bits set
        ({"serror_has_esr": 1, "serror_esr": 1 << 40}, False, 0),  # not pending: has_esr/esr ignored
        ({"ext_dabt_pending": 1}, False, 0),
        ({"ext_dabt_pending": 1, "serror_pending": 1}, True, 0),  # both accepted (both injected)
        ({"ext_dabt_pending": 1, "serror_pending": 1, "serror_has_esr": 1}, False, -EINVAL),
        ({"pad": b"\0\0\x01\0\0"}, True, -EINVAL),
        ({"reserved": bytes(47) + b"\x01"}, True, -EINVAL),
        ({"serror_pending": 2, "serror_has_esr": 7, "serror_esr": 5}, True, 0),  # any non-zero u8 is true
    ],
)
def test_validate(fields, has_ras, expected):
    assert ev(**fields).validate(has_ras=has_ras) == expected


def test_validate_uninitialized_vcpu():
    assert ev().validate(True, initialized=False) == -ENOEXEC
    assert ev(pad=b"\x01" + bytes(4)).validate(True, initialized=False) == -ENOEXEC  # checked first


def test_layout_offsets():
    e = ev(serror_pending=1, serror_has_esr=1, ext_dabt_pending=1, serror_esr=0x1122334455667788)
    b = e.encode()
    assert len(b) == 64 and b[:3] == b"\x01\x01\x01" and b[3:8] == bytes(5)
    assert struct.unpack_from("<Q", b, 8)[0] == 0x1122334455667788 and b[16:] == bytes(48)
    assert KvmVcpuEvents.decode(b) == e


@settings(max_examples=100, deadline=None)
@given(KvmVcpuEvents.strategy())
def test_roundtrip(e):
    assert KvmVcpuEvents.decode(e.encode()) == e
    assert e.validate(True) in (0, -EINVAL) and e.validate(False) in (0, -EINVAL)


def test_get_events_and_injected_esr():
    g = KvmVcpuEvents.get_events(True, 0x1D1ED, has_ras=True)
    assert (g.serror_pending, g.serror_has_esr, g.serror_esr, g.ext_dabt_pending) == (1, 1, 0x1D1ED, 0)
    assert KvmVcpuEvents.get_events(True, 0x1D1ED, has_ras=False).serror_esr == 0
    assert ev(serror_pending=1).injected_esr() == linux.ESR_ELX_ISV
    assert ev(serror_pending=1, serror_has_esr=1, serror_esr=0x12).injected_esr() == 0x12
    assert ev().injected_esr() is None


def test_ioctl_numbers():
    assert linux.KVMIO == 0xAE
    assert linux.KVM_GET_VCPU_EVENTS == (2 << 30) | (64 << 16) | (0xAE << 8) | 0x9F == 0x8040AE9F
    assert linux.KVM_SET_VCPU_EVENTS == (1 << 30) | (64 << 16) | (0xAE << 8) | 0xA0 == 0x4040AEA0
    assert linux.KVM_RUN == 0xAE80
    assert linux.KVM_ENABLE_CAP == 0x4068AEA3


def test_numbers():
    assert (linux.KVM_EXIT_MMIO, linux.KVM_EXIT_ARM_NISV, linux.KVM_EXIT_ARM_SEA) == (6, 28, 41)
    assert linux.KVM_CAP_ARM_INJECT_SERROR_ESR == 158 and linux.KVM_CAP_ARM_INJECT_EXT_DABT == 178
    assert linux.KVM_CAP_ARM_NISV_TO_USER == 177 and linux.KVM_CAP_ARM_SEA_TO_USER == 245
    assert linux.KVM_CAP_VCPU_EVENTS == 41 and linux.KVM_EXIT_ARM_SEA_FLAG_GPA_VALID == 1
    assert linux.EXIT_REASONS[41] == "KVM_EXIT_ARM_SEA" and len(linux.EXIT_REASONS) == 42


def test_kvm_run_exits():
    run = bytearray(256)
    struct.pack_into("<I", run, 8, linux.KVM_EXIT_ARM_SEA)
    struct.pack_into("<QQQQ", run, 32, 1, 0x92000410, 0xDEAD000, 0x7E000000)  # flags, esr (FnV set), gva, gpa
    head, sea = linux.decode_exit(bytes(run))
    assert head.exit_reason == 41 and isinstance(sea, linux.KvmExitArmSea)
    assert sea.gpa_valid and sea.gpa == 0x7E000000 and not sea.gva_valid
    assert "gpa 0x7e000000" in " ".join(linux.describe_exit(head, sea))
    struct.pack_into("<I", run, 8, linux.KVM_EXIT_ARM_NISV)
    head, nisv = linux.decode_exit(bytes(run))
    assert (nisv.esr_iss, nisv.fault_ipa) == (1, 0x92000410)
    struct.pack_into("<I", run, 8, 5)
    assert linux.decode_exit(bytes(run))[1] is None


def test_enable_cap():
    cap = linux.KvmEnableCap(cap=linux.KVM_CAP_ARM_SEA_TO_USER)
    b = cap.encode()
    assert len(b) == 104 and struct.unpack_from("<I", b, 0)[0] == 245
    assert cap.to_dict()["cap_name"] == "KVM_CAP_ARM_SEA_TO_USER"


def test_describe_vcpu_events():
    lines = linux.describe_vcpu_events(ev(serror_pending=1, serror_has_esr=1, serror_esr=1 << 30), has_ras=True)
    assert lines[-1].endswith("-> -EINVAL")


def test_kvm_run_exit_reason_offset_is_the_layouts():
    """KVM writes exit_reason in place: it must land where the layout puts it."""
    from rasflow.formats.linux.kvm import KvmRunHeader, kvm_run_set_exit_reason

    buf = bytearray(KvmRunHeader(request_interrupt_window=0, immediate_exit=0,
                                 padding1=bytes(6), exit_reason=0, ready_for_interrupt_injection=0,
                                 if_flag=0, flags=0, cr8=0, apic_base=0).encode())
    kvm_run_set_exit_reason(buf, 0x11223344)
    assert KvmRunHeader.decode(bytes(buf)).exit_reason == 0x11223344
