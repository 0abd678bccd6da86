"""Write src/rasflow/data/sample.cper: the record firmware-first firmware writes for a DRAM
uncorrectable error consumed by a load (memory section + ARM processor section).

Run once by a developer when the sample should change; the file is committed.
"""

from __future__ import annotations

from pathlib import Path

from rasflow.formats import cper
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


def arm_section():
    from rasflow.formats.cper import arm

    return arm.sample_sea_section(PA) if hasattr(arm, "sample_sea_section") else None


def main() -> None:
    sections = [(memory_section(), {"flags": CPER_SEC_PRIMARY})]
    rec = cper.build_record(
        sections, error_severity=CPER_SEV_RECOVERABLE, notification_type=guids.CPER_NOTIFY_SEA,
        record_id=0x6BB8_0000_0000_0001, timestamp=encode_timestamp(2026, 11, 24, 9, 30, 0, precise=True),
    )
    out = Path(__file__).resolve().parents[1] / "src" / "rasflow" / "data" / "sample.cper"
    out.write_bytes(rec.encode())
    print(f"wrote {out} ({rec.nbytes} bytes)")


if __name__ == "__main__":
    main()
