"""Write src/rasflow/data/sample.cper: the record firmware-first firmware writes for a DRAM
uncorrectable error consumed by a load (memory section + ARM processor section).

Run once by a developer when the sample should change; the file is committed.
"""

from __future__ import annotations

from pathlib import Path

from rasflow.formats import cper
from rasflow.formats.cper import arm as a
from rasflow.formats.cper import arm_names as an
from rasflow.formats.cper import guids
from rasflow.formats.cper import memory as m
from rasflow.formats.cper.names import CPER_SEC_PRIMARY, CPER_SEV_RECOVERABLE
from rasflow.formats.cper.timestamp import encode_timestamp

PA = 0x0000_0080_4A5C_3040  # a guest RAM page, 64-byte granule


def memory_section() -> m.CperSecMemErr:
    valid = (m.CPER_MEM_VALID_ERROR_STATUS | m.CPER_MEM_VALID_PA | m.CPER_MEM_VALID_PA_MASK
             | m.CPER_MEM_VALID_NODE | m.CPER_MEM_VALID_MODULE | m.CPER_MEM_VALID_BANK
             | m.CPER_MEM_VALID_ROW | m.CPER_MEM_VALID_COLUMN | m.CPER_MEM_VALID_ERROR_TYPE
             | m.CPER_MEM_VALID_RANK_NUMBER)
    return m.CperSecMemErr(
        validation_bits=valid, error_status=26 << 8 | 1 << 18,  # poisoned read, data signal
        physical_addr=PA, physical_addr_mask=0xFFFF_FFFF_FFFF_FFC0, node=0, module=3, bank=5,
        row=0x1A2B, column=0x3C, error_type=3, rank=1,
    )


def arm_section() -> a.CperSecProcArm:
    """The PE's view: a synchronous external abort on a data read that consumed poison
    (a cache error at the PA, not corrected, context corrupted), with the ESR/FAR/ELR
    context of the EL1 the error was delegated to."""
    info = a.CperArmErrInfo(
        version=0, length=a.CPER_ARM_INFO_ENTRY_SIZE,
        validation_bits=(a.CPER_ARM_INFO_VALID_MULTI_ERR | a.CPER_ARM_INFO_VALID_FLAGS
                         | a.CPER_ARM_INFO_VALID_ERR_INFO | a.CPER_ARM_INFO_VALID_VIRT_ADDR
                         | a.CPER_ARM_INFO_VALID_PHYSICAL_ADDR),
        type=a.CPER_ARM_CACHE_ERROR, multiple_error=0,
        flags=a.CPER_ARM_INFO_FLAGS_FIRST | a.CPER_ARM_INFO_FLAGS_LAST,
        error_info=a.ARM_CACHE_ERR_INFO.encode(
            transaction_type_valid=1, transaction_type=1, operation_valid=1, operation=3,
            level_valid=1, level=2, proc_context_corrupt_valid=1, proc_context_corrupt=1,
            corrected_valid=1, corrected=0, precise_pc_valid=1, precise_pc=1),
        virt_fault_addr=0x0000_FFFF_A3C4_5040, physical_fault_addr=PA,
    )
    el1 = dict(elr_el1=0x0000_AAAA_C0DE_1234, esr_el1=0x9200_0010, far_el1=0x0000_FFFF_A3C4_5040,
               midr_el1=0x410F_D0C0, mpidr_el1=0x8100_0100, spsr_el1=0x0)
    names = an.ARM_CTX_REGS[5][1]
    regs = b"".join(el1.get(n, 0).to_bytes(8, "little") for n in names)
    ctx = a.CperArmCtxInfo(version=0, type=5, size=len(regs), regs=regs)
    sec = a.CperSecProcArm(
        validation_bits=a.CPER_ARM_VALID_MPIDR | a.CPER_ARM_VALID_AFFINITY_LEVEL | a.CPER_ARM_VALID_RUNNING_STATE,
        affinity_level=0, mpidr=0x8100_0100, midr=0x410F_D0C0, running_state=1,
        err_info=(info,), context_info=(ctx,),
    )
    return sec.with_lengths()


def main() -> None:
    sections = [(memory_section(), {"flags": CPER_SEC_PRIMARY}), arm_section()]
    rec = cper.build_record(
        sections, error_severity=CPER_SEV_RECOVERABLE, notification_type=guids.CPER_NOTIFY_SEA,
        record_id=0x6BB8_0000_0000_0001, timestamp=encode_timestamp(2026, 11, 24, 9, 30, 0, precise=True),
    )
    out = Path(__file__).resolve().parents[1] / "src" / "rasflow" / "data" / "sample.cper"
    out.write_bytes(rec.encode())
    print(f"wrote {out} ({rec.nbytes} bytes)")


if __name__ == "__main__":
    main()
