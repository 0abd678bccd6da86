"""System registers on the RAS path: routing and trap controls, PSTATE, IDs, deferred and
virtual SError syndromes. Field names and bit positions follow the Arm ARM (DDI0487).
"""

from __future__ import annotations

from collections.abc import Mapping

from .esr import SERROR_ISS, SERROR_UNCATEGORIZED
from .names import (
    AET32_NAMES,
    AET_NAMES,
    ARCHITECTURE_NAMES,
    IMPLEMENTER_NAMES,
    MODE32_NAMES,
    MODE64_NAMES,
    NRW_NAMES,
    PART_NAMES,
    SERROR_DFSC_NAMES,
)
from .register import Closed, Register, Variants

HCR_EL2 = Register("HCR_EL2", [
    ("TWEDEL", 63, 60), ("TWEDEn", 59, 59), ("TID5", 58, 58), ("DCT", 57, 57), ("ATA", 56, 56),
    ("TTLBOS", 55, 55), ("TTLBIS", 54, 54), ("EnSCXT", 53, 53), ("TOCU", 52, 52),
    ("AMVOFFEN", 51, 51), ("TICAB", 50, 50), ("TID4", 49, 49), ("GPF", 48, 48),
    ("FIEN", 47, 47), ("FWB", 46, 46), ("NV2", 45, 45), ("AT", 44, 44), ("NV1", 43, 43),
    ("NV", 42, 42), ("API", 41, 41), ("APK", 40, 40), ("TME", 39, 39), ("MIOCNCE", 38, 38),
    ("TEA", 37, 37), ("TERR", 36, 36), ("TLOR", 35, 35), ("E2H", 34, 34), ("ID", 33, 33),
    ("CD", 32, 32), ("RW", 31, 31), ("TRVM", 30, 30), ("HCD", 29, 29), ("TDZ", 28, 28),
    ("TGE", 27, 27), ("TVM", 26, 26), ("TTLB", 25, 25), ("TPU", 24, 24), ("TPCP", 23, 23),
    ("TSW", 22, 22), ("TACR", 21, 21), ("TIDCP", 20, 20), ("TSC", 19, 19), ("TID3", 18, 18),
    ("TID2", 17, 17), ("TID1", 16, 16), ("TID0", 15, 15), ("TWE", 14, 14), ("TWI", 13, 13),
    ("DC", 12, 12), ("BSU", 11, 10), ("FB", 9, 9), ("VSE", 8, 8), ("VI", 7, 7), ("VF", 6, 6),
    ("AMO", 5, 5), ("IMO", 4, 4), ("FMO", 3, 3), ("PTW", 2, 2), ("SWIO", 1, 1), ("VM", 0, 0),
])

SCR_EL3 = Register("SCR_EL3", [
    ("NSE", 62, 62), ("HACDBSEn", 61, 61), ("HDBSSEn", 60, 60), ("FGTEn2", 59, 59),
    ("EnDSE", 58, 58), ("DSE", 57, 57), ("EnIDCP128", 55, 55), ("SRMASKEn", 54, 54),
    ("PFAREn", 53, 53), ("TWERR", 52, 52), ("TMEA", 51, 51), ("EnFPM", 50, 50),
    ("MECEn", 49, 49), ("GPF", 48, 48), ("D128En", 47, 47), ("AIEn", 46, 46), ("PIEn", 45, 45),
    ("SCTLR2En", 44, 44), ("TCR2En", 43, 43), ("RCWMASKEn", 42, 42), ("EnTP2", 41, 41),
    ("TRNDR", 40, 40), ("GCSEn", 39, 39), ("HXEn", 38, 38), ("ADEn", 37, 37), ("EnAS0", 36, 36),
    ("AMVOFFEN", 35, 35), ("TME", 34, 34), ("TWEDEL", 33, 30), ("TWEDEn", 29, 29),
    ("ECVEn", 28, 28), ("FGTEn", 27, 27), ("ATA", 26, 26), ("EnSCXT", 25, 25), ("TID5", 23, 23),
    ("TID3", 22, 22), ("FIEN", 21, 21), ("NMEA", 20, 20), ("EASE", 19, 19), ("EEL2", 18, 18),
    ("API", 17, 17), ("APK", 16, 16), ("TERR", 15, 15), ("TLOR", 14, 14), ("TWE", 13, 13),
    ("TWI", 12, 12), ("ST", 11, 11), ("RW", 10, 10), ("SIF", 9, 9), ("HCE", 8, 8), ("SMD", 7, 7),
    ("RES1", 5, 4), ("EA", 3, 3), ("FIQ", 2, 2), ("IRQ", 1, 1), ("NS", 0, 0),
])

SCTLR_ELx = Register("SCTLR_ELx", [
    ("TIDCP", 63, 63), ("SPINTMASK", 62, 62), ("NMI", 61, 61), ("EnTP2", 60, 60),
    ("TCSO", 59, 59), ("TCSO0", 58, 58), ("EPAN", 57, 57), ("EnALS", 56, 56), ("EnAS0", 55, 55),
    ("EnASR", 54, 54), ("TME", 53, 53), ("TME0", 52, 52), ("TMT", 51, 51), ("TMT0", 50, 50),
    ("TWEDEL", 49, 46), ("TWEDEn", 45, 45), ("DSSBS", 44, 44), ("ATA", 43, 43),
    ("ATA0", 42, 42), ("TCF", 41, 40), ("TCF0", 39, 38), ("ITFSB", 37, 37), ("BT1", 36, 36),
    ("BT0", 35, 35), ("EnFPM", 34, 34), ("MSCEn", 33, 33), ("CMOW", 32, 32), ("EnIA", 31, 31),
    ("EnIB", 30, 30), ("LSMAOE", 29, 29), ("nTLSMD", 28, 28), ("EnDA", 27, 27), ("UCI", 26, 26),
    ("EE", 25, 25), ("E0E", 24, 24), ("SPAN", 23, 23), ("EIS", 22, 22), ("IESB", 21, 21),
    ("TSCXT", 20, 20), ("WXN", 19, 19), ("nTWE", 18, 18), ("nTWI", 16, 16), ("UCT", 15, 15),
    ("DZE", 14, 14), ("EnDB", 13, 13), ("I", 12, 12), ("EOS", 11, 11), ("EnRCTX", 10, 10),
    ("UMA", 9, 9), ("SED", 8, 8), ("ITD", 7, 7), ("nAA", 6, 6), ("CP15BEN", 5, 5),
    ("SA0", 4, 4), ("SA", 3, 3), ("C", 2, 2), ("A", 1, 1), ("M", 0, 0),
], label="SCTLR_ELx (SCTLR_EL1 layout)")
"""SCTLR_EL1 layout; SCTLR_EL2 with E2H=1 matches it, SCTLR_EL3 uses a subset."""

ISR_EL1 = Register("ISR_EL1", [("IS", 10, 10), ("FS", 9, 9), ("A", 8, 8), ("I", 7, 7),
                               ("F", 6, 6)])


def _midr_part(f: Mapping[str, int]) -> dict[str, str]:
    name = PART_NAMES.get((f["Implementer"], f["PartNum"]))
    return {"PartNum_name": name or f"unknown ({f['PartNum']:#x})"}


MIDR_EL1 = Register("MIDR_EL1", [
    ("Implementer", 31, 24, IMPLEMENTER_NAMES), ("Variant", 23, 20),
    ("Architecture", 19, 16, ARCHITECTURE_NAMES), ("PartNum", 15, 4), ("Revision", 3, 0),
], derive=_midr_part)

MPIDR_EL1 = Register("MPIDR_EL1", [
    ("Aff3", 39, 32), ("RES1", 31, 31), ("U", 30, 30), ("MT", 24, 24), ("Aff2", 23, 16),
    ("Aff1", 15, 8), ("Aff0", 7, 0),
])

# SPSR_ELx / PSTATE: the layout follows M[4] (0 = taken from AArch64, 1 = from AArch32).
SPSR_ELx = Variants("SPSR_ELx", [
    Register("SPSR_ELx", [
        ("PACM", 35, 35), ("EXLOCK", 34, 34), ("PPEND", 33, 33), ("PM", 32, 32),
        ("N", 31, 31), ("Z", 30, 30), ("C", 29, 29), ("V", 28, 28), ("TCO", 25, 25),
        ("DIT", 24, 24), ("UAO", 23, 23), ("PAN", 22, 22), ("SS", 21, 21), ("IL", 20, 20),
        ("ALLINT", 13, 13), ("SSBS", 12, 12), ("BTYPE", 11, 10), ("D", 9, 9), ("A", 8, 8),
        ("I", 7, 7), ("F", 6, 6), ("M[4]", 4, 4, NRW_NAMES), ("M[3:0]", 3, 0, Closed(MODE64_NAMES)),
    ], label="SPSR_ELx (from AArch64)", when={"M[4]": {0}}),
    Register("SPSR_ELx", [
        ("PPEND", 33, 33), ("N", 31, 31), ("Z", 30, 30), ("C", 29, 29), ("V", 28, 28),
        ("Q", 27, 27), ("IT[1:0]", 26, 25), ("DIT", 24, 24), ("SSBS", 23, 23), ("PAN", 22, 22),
        ("SS", 21, 21), ("IL", 20, 20), ("GE", 19, 16), ("IT[7:2]", 15, 10), ("E", 9, 9),
        ("A", 8, 8), ("I", 7, 7), ("F", 6, 6), ("T", 5, 5), ("M[4]", 4, 4, NRW_NAMES),
        ("M[3:0]", 3, 0, Closed(MODE32_NAMES)),
    ], label="SPSR_ELx (from AArch32)", when={"M[4]": {1}}),
])

# --- Deferred and virtual SError syndromes -----------------------------------------------
_DISR_HEAD = (("A", 31, 31), ("IDS", 24, 24))
DISR_EL1 = Variants("DISR_EL1", [
    Register("DISR_EL1", [*_DISR_HEAD, ("IMPDEF", 23, 0)],
             label="DISR_EL1, IDS=1 (IMPLEMENTATION DEFINED syndrome)", when={"IDS": {1}}),
    Register("DISR_EL1", [
        *_DISR_HEAD, ("WU", 17, 16), ("AET", 12, 10, Closed(AET_NAMES)), ("EA", 9, 9),
        ("WnRV", 7, 7), ("WnR", 6, 6), ("DFSC", 5, 0, Closed(SERROR_DFSC_NAMES)),
    ], label="DISR_EL1, IDS=0", when={"IDS": {0}}),
])
"""DISR_EL1: what an ESB deferred (A=1) and its syndrome, in the SError ISS format."""


def _serror_iss(name: str, head: tuple, group: tuple) -> Variants:
    """IDS at bit 24 and an ISS[23:0] that becomes ESR_EL1.ISS of a virtual SError."""
    return Variants(name, [
        Register(name, [*head, ("IDS", 24, 24), ("IMPDEF", 23, 0)], groups=group,
                 label=f"{name}, IDS=1 (IMPLEMENTATION DEFINED syndrome)", when={"IDS": {1}}),
        Register(name, [*head, ("IDS", 24, 24), *SERROR_ISS], groups=group,
                 label=f"{name}, IDS=0, DFSC=0x11", when={"IDS": {0}, "DFSC": {0x11}}),
        Register(name, [*head, ("IDS", 24, 24), *SERROR_UNCATEGORIZED], groups=group,
                 label=f"{name}, IDS=0", when={"IDS": {0}, "DFSC": set(range(64)) - {0x11}}),
    ])


VSESR_EL2 = _serror_iss("VSESR_EL2", (), (("ISS", 23, 0),))
"""VSESR_EL2 when EL1 is AArch64: IDS and ISS[23:0], decoded as the SError ISS they become."""

VSESR_EL2_AARCH32 = Register("VSESR_EL2", [("AET", 15, 14, AET32_NAMES), ("ExT", 12, 12)],
                             label="VSESR_EL2 (EL1 using AArch32)")

VDISR_EL2 = _serror_iss("VDISR_EL2", (("A", 31, 31),), (("ISS", 23, 0),))
"""VDISR_EL2 (AArch64): A, and IDS/ISS copied from VSESR_EL2 by a virtual ESB."""


def decode_vsesr(value: int, *, aarch32: bool = False):
    """VSESR_EL2 in the form EL1 uses: AArch64 (IDS, ISS) or AArch32 (AET, ExT)."""
    return (VSESR_EL2_AARCH32 if aarch32 else VSESR_EL2).decode(value)
