"""Kernel-named helpers against hand-worked cases from linux-kvm.md sections 1-3."""

import pytest

from rasflow.formats import arm
from rasflow.formats.arm import kernel as k

UC, UEU, UEO, UER, CE = 0xBE000011, 0xBE000411, 0xBE000811, 0xBE000C11, 0xBE001811
IMPDEF = 0xBF000000  # IDS=1: what kvm_inject_vabt/kvm_inject_serror give a guest


def test_constants():
    assert arm.ESR_ELx_EC_DABT_LOW == 0x24 and arm.ESR_ELx_EC_DABT_CUR == 0x25
    assert arm.ESR_ELx_EC_IABT_LOW == 0x20 and arm.ESR_ELx_EC_SERROR == 0x2F
    assert arm.ESR_ELx_EC_SYS64 == 0x18 and arm.ESR_ELx_EC_BRK64 == 0x3C
    assert arm.ESR_ELx_FSC_EXTABT == 0x10 and arm.ESR_ELx_FSC_SERROR == 0x11
    assert arm.ESR_ELx_FSC_SECC == 0x18
    assert (arm.ESR_ELx_AET_UC, arm.ESR_ELx_AET_UEU, arm.ESR_ELx_AET_UEO,
            arm.ESR_ELx_AET_UER, arm.ESR_ELx_AET_CE) == (0, 0x400, 0x800, 0xC00, 0x1800)
    assert arm.ESR_ELx_IDS == arm.ESR_ELx_ISV == 1 << 24
    assert arm.ESR_ELx_ISS_MASK == 0x1FFFFFF and arm.ESR_ELx_IL == 1 << 25
    assert arm.DISR_EL1_ESR_MASK == 0x1E3F  # AET | EA | FSC
    assert k.ESR_ELx_FSC_SEA_TTW(-1) == 0x13 and k.ESR_ELx_FSC_SECC_TTW(3) == 0x1F
    assert k.ESR_ELx_FSC_FAULT_L(-1) == 0x2B and k.ESR_ELx_FSC_FAULT_L(2) == 0x06


@pytest.mark.parametrize("esr,has_ras,expected", [
    (UER, True, True), (IMPDEF, True, False), (UER, False, False), (0xBE000000, True, True),
])
def test_arm64_is_ras_serror(esr, has_ras, expected):
    assert arm.arm64_is_ras_serror(esr, has_ras=has_ras) is expected


@pytest.mark.parametrize("esr,has_ras,severity", [
    (UC, True, k.ESR_ELx_AET_UC), (UEU, True, k.ESR_ELx_AET_UEU),
    (UEO, True, k.ESR_ELx_AET_UEO), (UER, True, k.ESR_ELx_AET_UER),
    (CE, True, k.ESR_ELx_AET_CE),
    (0xBE000C00, True, k.ESR_ELx_AET_UC),  # DFSC 0: AET bits are RES0, severity unknown
    (0xBF000C11, True, k.ESR_ELx_AET_UC),  # IDS=1: not a RAS SError
    (UER, False, k.ESR_ELx_AET_UC),        # no RAS extension
])
def test_arm64_ras_serror_get_severity(esr, has_ras, severity):
    assert arm.arm64_ras_serror_get_severity(esr, has_ras=has_ras) == severity


@pytest.mark.parametrize("esr,path,fatal,do_serror,kvm", [
    (CE, "false", False, "ignore", "ignore"),
    (UEO, "false", False, "ignore", "ignore"),
    (UEU, "true", True, "arm64_serror_panic", "kvm_inject_serror"),
    (UER, "true", True, "arm64_serror_panic", "kvm_inject_serror"),
    (UC, "arm64_serror_panic", True, "arm64_serror_panic", "arm64_serror_panic"),
    (0xBE001C11, "arm64_serror_panic", True, "arm64_serror_panic", "arm64_serror_panic"),
    (IMPDEF, "arm64_serror_panic", True, "arm64_serror_panic", "kvm_inject_serror"),
])
def test_fatal_and_outcomes(esr, path, fatal, do_serror, kvm):
    assert arm.arm64_fatal_ras_serror_path(esr) == path
    assert arm.arm64_is_fatal_ras_serror(esr) is fatal
    assert arm.do_serror_action(esr) == do_serror
    assert arm.kvm_handle_guest_serror_action(esr) == kvm


def test_without_ras_every_serror_panics_the_host_and_kvm_injects():
    assert arm.do_serror_action(CE, has_ras=False) == "arm64_serror_panic"
    assert arm.kvm_handle_guest_serror_action(CE, has_ras=False) == "kvm_inject_serror"


@pytest.mark.parametrize("disr,esr", [
    (0x80000C11, 0xBC000C11),   # A=1, UER: EC=0x2F, IL left 0, ISS from AET|EA|DFSC
    (0x8000EE11, 0xBC000E11),   # RES0/RASv2 bits outside DISR_EL1_ESR_MASK are dropped
    (0x81123456, 0xBD123456),   # IDS=1: the whole ISS, IDS included
    (0x0, 0xBC000000),
])
def test_disr_to_esr(disr, esr):
    assert arm.disr_to_esr(disr) == esr


def test_fsc_helpers():
    assert [f for f in range(64) if arm.esr_fsc_is_sea_ttw(0x92000000 | f)] == [
        0x13, 0x14, 0x15, 0x16, 0x17]
    assert [f for f in range(64) if arm.esr_fsc_is_secc_ttw(f)] == [0x1B, 0x1C, 0x1D, 0x1E, 0x1F]
    assert [f for f in range(64) if arm.kvm_vcpu_abt_issea(f)] == [
        0x10, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F]
    assert k.esr_fsc_is_translation_fault(0x2B) and k.esr_fsc_is_permission_fault(0x0F)
    assert k.esr_fsc_is_access_flag_fault(0x0B) and not k.esr_fsc_is_access_flag_fault(0x10)


def test_esr_is_data_abort_and_class_strings():
    assert arm.esr_is_data_abort(0x92000010) and arm.esr_is_data_abort(0x96000050)
    assert not arm.esr_is_data_abort(0x82001E10)
    assert arm.esr_get_class_string(UER) == "SError"
    assert arm.esr_get_class_string(0x92000010) == "DABT (lower EL)"
    assert arm.esr_get_class_string(0x08000000) == "UNRECOGNIZED EC"
    assert k.ESR_ELx_EC(0x96000050) == 0x25 and k.ESR_ELx_ISS2(0x4_0000_0000) == 4


def test_kvm_inject_vabt_syndrome_decodes_as_impdef_serror():
    vsesr = arm.decode_register("vsesr", arm.ESR_ELx_ISV)
    assert vsesr.fields["IDS"] == 1 and vsesr.problems == []
    guest = arm.decode_esr(arm.ESR_ELx_EC_SERROR << 26 | arm.ESR_ELx_IL | vsesr.value)
    assert guest.value == IMPDEF and not arm.arm64_is_ras_serror(guest.value)
