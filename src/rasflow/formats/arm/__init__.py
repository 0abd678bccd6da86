"""Arm syndromes and system registers as codecs: ESR_ELx, routing/trap controls, PSTATE,
IDs, deferred and virtual SError syndromes, and the RAS error record registers.

    from rasflow.formats import arm
    e = arm.decode_esr(0x96000050)      # e.ec == 0x25, e.fields["DFSC"] == 0x10
    e.to_dict()                         # nested, Arm ARM field names
    arm.encode_esr(EC=0x24, IL=1, DFSC=0x10)
    arm.decode_register("errstatus", 0xE0000000 | 0x0C)
    arm.describe(e)                     # lines: fields, problems, kernel/KVM outcome

Kernel-named constants and helpers (``ESR_ELx_EC_DABT_LOW``, ``arm64_is_ras_serror`` ...)
live in :mod:`rasflow.formats.arm.kernel` and are re-exported here.
"""

from .describe import describe, serror_lines
from .esr import ESR_ELx, EsrValue, decode_esr, encode_esr
from .kernel import *  # noqa: F403 - the kernel's names, by design
from .kernel import (
    arm64_fatal_ras_serror_path,
    arm64_is_fatal_ras_serror,
    arm64_is_ras_serror,
    arm64_ras_serror_get_severity,
    disr_to_esr,
    do_serror_action,
    esr_fsc_is_sea_ttw,
    esr_fsc_is_secc_ttw,
    esr_get_class_string,
    esr_is_data_abort,
    kvm_handle_guest_serror_action,
    kvm_vcpu_abt_issea,
)
from .kinds import KINDS, decode_register
from .ras import (
    ERR_ADDR,
    ERR_CTLR,
    ERR_FR,
    ERR_MISC0_CEC8,
    ERR_MISC0_CEC16,
    ERR_MISC0_CEC16_RP,
    ERR_MISC0_IMPDEF,
    ERR_RECORD_OFFSETS,
    ERR_RECORD_STRIDE,
    ERR_STATUS,
    ErrRecord,
    decode_errmisc0,
    err_record_offset,
    misc0_layout,
)
from .register import Closed, Field, Register, RegValue, Table, Variants
from .sysreg import (
    DISR_EL1,
    HCR_EL2,
    ISR_EL1,
    MIDR_EL1,
    MPIDR_EL1,
    SCR_EL3,
    VDISR_EL2,
    VSESR_EL2,
    VSESR_EL2_AARCH32,
    SCTLR_ELx,
    SPSR_ELx,
    decode_vsesr,
)

__all__ = [
    "Closed", "DISR_EL1", "ERR_ADDR", "ERR_CTLR", "ERR_FR", "ERR_MISC0_CEC8",
    "ERR_MISC0_CEC16", "ERR_MISC0_CEC16_RP", "ERR_MISC0_IMPDEF", "ERR_RECORD_OFFSETS",
    "ERR_RECORD_STRIDE", "ERR_STATUS", "ESR_ELx", "ErrRecord", "EsrValue", "Field",
    "HCR_EL2", "ISR_EL1", "KINDS", "MIDR_EL1", "MPIDR_EL1", "RegValue", "Register",
    "SCR_EL3", "SCTLR_ELx", "SPSR_ELx", "Table", "VDISR_EL2", "VSESR_EL2",
    "VSESR_EL2_AARCH32", "Variants", "arm64_fatal_ras_serror_path",
    "arm64_is_fatal_ras_serror", "arm64_is_ras_serror", "arm64_ras_serror_get_severity",
    "decode_errmisc0", "decode_esr", "decode_register", "decode_vsesr", "describe",
    "disr_to_esr", "do_serror_action", "encode_esr", "err_record_offset",
    "esr_fsc_is_sea_ttw", "esr_fsc_is_secc_ttw", "esr_get_class_string",
    "esr_is_data_abort", "kvm_handle_guest_serror_action", "kvm_vcpu_abt_issea",
    "misc0_layout", "serror_lines",
]
