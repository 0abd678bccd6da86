"""Describers: every field with its meaning, and the kernel/KVM outcome for SErrors."""

import pytest

from rasflow.formats import arm


def text(value, **kw):
    return "\n".join(arm.describe(value, **kw))


def test_uer_serror_says_recoverable_and_what_linux_does():
    lines = arm.describe(arm.decode_esr(0xBE000C11))
    out = "\n".join(lines)
    assert lines[0] == "ESR_ELx = 0x00000000be000c11  (SError, IDS=0, DFSC=0x11)"
    assert "AET  = 0b011    Recoverable state (UER)" in out
    # do_serror(): arm64_is_fatal_ras_serror() is true for UER -> arm64_serror_panic()
    host = next(line for line in lines if line.startswith("host: do_serror()"))
    assert "returns true for UER" in host and "arm64_serror_panic()" in host
    assert "imprecise" in host
    # kvm_handle_guest_serror(): fatal RAS SError from a guest -> inject a virtual SError
    kvm = next(line for line in lines if line.startswith("kvm: kvm_handle_guest_serror()"))
    assert "kvm_inject_serror()" in kvm and "host keeps running" in kvm
    assert "kernel: arm64_ras_serror_get_severity() = ESR_ELx_AET_UER" in lines


def test_every_field_is_described():
    e = arm.decode_esr(0xBE000C11)
    out = text(e)
    for f in e.layout.fields:
        if not f.kind:
            assert f"{f.name} " in out
    assert "DFSC = 0x11     Asynchronous SError exception" in out
    assert "WnR  = 0        abort caused by reading from memory" in out


@pytest.mark.parametrize("esr,host,kvm", [
    (0xBE001811, "ignored", "the error is dropped"),                 # CE
    (0xBE000811, "ignored", "the error is dropped"),                 # UEO
    (0xBE000411, "arm64_serror_panic", "kvm_inject_serror"),         # UEU
    (0xBE000011, "arm64_serror_panic", "the host panics"),           # UC
    (0xBF000000, "not a RAS SError", "kvm_inject_serror"),           # IDS=1
])
def test_serror_outcomes(esr, host, kvm):
    lines = arm.describe(arm.decode_esr(esr))
    assert host in next(line for line in lines if line.startswith("host: do_serror()"))
    assert kvm in next(line for line in lines if line.startswith("kvm:"))


def test_without_ras_the_syndrome_cannot_be_read():
    out = text(arm.decode_esr(0xBE001811), has_ras=False)
    assert "arm64_is_ras_serror() = False (no RAS extension)" in out
    assert "arm64_serror_panic" in out


def test_sea_and_msr_and_problems():
    out = text(arm.decode_esr(0x92000610))
    assert "FnV         = 1        FAR is not valid" in out
    assert "do_sea()" in out and "kvm_vcpu_abt_issea() is true" in out
    assert "instruction = MRS x0, ERXSTATUS_EL1" in text(arm.decode_esr(0x62341409))
    assert "problem: EC 0x02 is reserved" in text(arm.decode_esr(0x08000000))
    res0 = [line for line in arm.describe(arm.decode_esr(0x96400018)) if "RES0_23_14" in line]
    assert len(res0) == 1 and res0[0].endswith("= 0x100    RES0, should be zero")


def test_disr_vsesr_status_describe():
    out = text(arm.decode_register("disr", 0x80000C11))
    assert "kernel: disr_to_esr() = 0xbc000c11" in out and "returns true for UER" in out
    out = text(arm.decode_register("vsesr", 0xC11))
    assert "guest: taking the virtual SError writes ESR_EL1 = 0xbe000c11" in out
    assert "guest: do_serror()" in out
    out = text(arm.decode_register("errstatus", 0xE420000C))
    assert "record: uncorrected error, Restartable state (UEO)" in out
    assert "SERR 0x0c: Data value from (non-associative) external memory" in out
    assert "not valid" in text(arm.decode_register("errstatus", 0))
    assert "firmware first" in text(arm.decode_register("scr", 0x73D))
    assert "virtual SError is pending" in text(arm.decode_register("hcr", 0x120))


@pytest.mark.parametrize("kind", sorted(arm.KINDS))
def test_describe_every_kind(kind):
    lines = arm.describe(arm.decode_register(kind, 0))
    assert lines and all(isinstance(line, str) for line in lines)
