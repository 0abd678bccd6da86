"""ESR_ELx, the Exception Syndrome Register: EC, IL, ISS and ISS2, the ISS by exception class.

Field names are the Arm ARM's (DDI0487, "ISS encoding for an exception from ..."). Every
value decodes: an EC without a known ISS layout keeps ``ISS``/``ISS2`` whole, and
reserved EC/DFSC/AET/SET values or non-zero RES0 bits are reported in ``.problems``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import FormatError
from .names import (
    AET_NAMES,
    DEBUG_FSC_NAMES,
    DFSC_NAMES,
    DIRECTION_NAMES,
    EC_NAMES,
    IFSC_NAMES,
    IL_NAMES,
    LST_NAMES,
    OTHER_ISS_NAMES,
    SAS_NAMES,
    SERROR_DFSC_NAMES,
    SET_NAMES,
    SMTC_NAMES,
    WFX_TI_NAMES,
    sysreg_name,
)
from .register import Closed, Register, RegValue, Variants, name_of


class EsrValue(RegValue):
    """A decoded ESR_ELx with ``ec``, ``il``, ``iss``, ``iss2`` and ``ec_name``."""

    __slots__ = ()

    @property
    def ec(self) -> int:
        return self.value >> 26 & 0x3F

    @property
    def il(self) -> int:
        return self.value >> 25 & 1

    @property
    def iss(self) -> int:
        return self.value & 0x1FFFFFF

    @property
    def iss2(self) -> int:
        return self.value >> 32 & 0xFFFFFF

    @property
    def ec_name(self) -> str:
        return name_of(EC_NAMES, self.ec)


_TOP = (("EC", 31, 26, Closed(EC_NAMES)), ("IL", 25, 25, IL_NAMES))
_GROUPS = (("ISS", 24, 0), ("ISS2", 55, 32))
_ISS2_RES0 = (("RES0", 55, 32),)
_ISS2_RAW = (("ISS2", 55, 32),)
_CV_COND = (("CV", 24, 24), ("COND", 23, 20))


def _il1(what: str):
    """Check: exceptions of this kind always report IL=1."""

    def check(f: Mapping[str, int]) -> list[str]:
        if f["IL"] == 0 and (what != "a Data Abort with ISV=0" or f["ISV"] == 0):
            return [f"IL is 0, but {what} always reports IL=1"]
        return []

    return check


def _esr(label, ecs, iss, iss2=_ISS2_RES0, *, when=None, il1=None, derive=None):
    return Register(
        "ESR_ELx", [*_TOP, *iss, *iss2], label=label, when={"EC": ecs, **(when or {})},
        groups=_GROUPS, check=_il1(il1) if il1 else None, derive=derive,
        value_type=EsrValue,
    )


# --- Data and Instruction Aborts -------------------------------------------------------
_SEA = {0x10}
_LST_FSC = set(range(0x04, 0x10)) | {0x2A, 0x2B}  # translation, access flag, permission
_OTHER_DFSC = set(range(64)) - _SEA - _LST_FSC
_DA_TAIL = (("VNCR", 13, 13), ("FnV", 10, 10), ("EA", 9, 9), ("CM", 8, 8),
            ("S1PTW", 7, 7), ("WnR", 6, 6), ("DFSC", 5, 0, Closed(DFSC_NAMES)))
_DA_ISV1 = (("ISV", 24, 24), ("SAS", 23, 22, SAS_NAMES), ("SSE", 21, 21), ("SRT", 20, 16),
            ("SF", 15, 15), ("AR", 14, 14))
_DA_ISS2 = (("HDBSSF", 43, 43), ("TnD", 42, 42), ("TagAccess", 41, 41), ("GCS", 40, 40),
            ("AssuredOnly", 39, 39), ("Overlay", 38, 38), ("DirtyBit", 37, 37), ("Xs", 36, 32))
_SET = (("SET", 12, 11, Closed(SET_NAMES)),)
_LST = (("LST", 12, 11, LST_NAMES),)
_DABT = {0x24, 0x25}
_IABT = {0x20, 0x21}


def _data_aborts() -> list[Register]:
    out = []
    for isv in (1, 0):
        for kind, dfsc, mid in (("SET", _SEA, _SET), ("LST", _LST_FSC, _LST), ("", _OTHER_DFSC, ())):
            if isv:
                head = _DA_ISV1
            elif kind == "SET":  # FnP/PFV: FAR not precise, PFAR valid (FEAT_RASv2, FEAT_PFAR)
                head = (("ISV", 24, 24), ("FnP", 15, 15), ("PFV", 14, 14))
            else:
                head = (("ISV", 24, 24),)
            label = f"Data Abort, ISV={isv}" + (f", {kind}" if kind else "")
            out.append(_esr(label, _DABT, (*head, *mid, *_DA_TAIL), _DA_ISS2,
                            when={"ISV": {isv}, "DFSC": dfsc}, il1="a Data Abort with ISV=0"))
    return out


_IA_TAIL = (("FnV", 10, 10), ("EA", 9, 9), ("S1PTW", 7, 7), ("IFSC", 5, 0, Closed(IFSC_NAMES)))
_IA_ISS2 = (("AssuredOnly", 39, 39), ("Overlay", 38, 38))
_INSTRUCTION_ABORTS = [
    _esr("Instruction Abort, SET", _IABT,
         (("FnP", 15, 15), ("PFV", 14, 14), *_SET, *_IA_TAIL), _IA_ISS2,
         when={"IFSC": _SEA}, il1="an Instruction Abort"),
    _esr("Instruction Abort", _IABT, _IA_TAIL, _IA_ISS2,
         when={"IFSC": set(range(64)) - _SEA}, il1="an Instruction Abort"),
]

# --- SError (EC 0x2F) -------------------------------------------------------------------
# AET, EA, IESB and the RASv2 fields are defined only when DFSC is 0x11 (Asynchronous
# SError); otherwise ISS[23:6] is RES0 (the kernel's arm64_ras_serror_get_severity
# relies on the same rule). IDS=1 makes ISS[23:0] IMPLEMENTATION DEFINED.
SERROR_ISS = (("ELS", 18, 18), ("WU", 17, 16), ("VFV", 15, 15), ("PFV", 14, 14),
              ("IESB", 13, 13), ("AET", 12, 10, Closed(AET_NAMES)), ("EA", 9, 9),
              ("WnRV", 7, 7), ("WnR", 6, 6), ("DFSC", 5, 0, Closed(SERROR_DFSC_NAMES)))
SERROR_UNCATEGORIZED = (("DFSC", 5, 0, Closed(SERROR_DFSC_NAMES)),)
_SERROR = {0x2F}
_SERRORS = [
    _esr("SError, IDS=1 (IMPLEMENTATION DEFINED syndrome)", _SERROR,
         (("IDS", 24, 24), ("IMPDEF", 23, 0)), when={"IDS": {1}}, il1="an SError"),
    _esr("SError, IDS=0, DFSC=0x11", _SERROR, (("IDS", 24, 24), *SERROR_ISS),
         when={"IDS": {0}, "DFSC": {0x11}}, il1="an SError"),
    _esr("SError, IDS=0", _SERROR, (("IDS", 24, 24), *SERROR_UNCATEGORIZED),
         when={"IDS": {0}, "DFSC": set(range(64)) - {0x11}}, il1="an SError"),
]


# --- Traps and calls -------------------------------------------------------------------
def _sys64(f: Mapping[str, int]) -> dict[str, str]:
    reg = sysreg_name(f["Op0"], f["Op1"], f["CRn"], f["CRm"], f["Op2"])
    xt = "xzr" if f["Rt"] == 31 else f"x{f['Rt']}"
    if f["Op0"] < 2:
        sys = f"#{f['Op1']}, C{f['CRn']}, C{f['CRm']}, #{f['Op2']}"
        insn = f"SYSL {xt}, {sys}" if f["Direction"] else f"SYS {sys}, {xt}"
        return {"instruction": insn}
    insn = f"MRS {xt}, {reg}" if f["Direction"] else f"MSR {reg}, {xt}"
    return {"sysreg": reg, "instruction": insn}


_DIR = ("Direction", 0, 0, DIRECTION_NAMES)
_MCR = (*_CV_COND, ("Opc2", 19, 17), ("Opc1", 16, 14), ("CRn", 13, 10), ("Rt", 9, 5),
        ("CRm", 4, 1), _DIR)
_MCRR = (*_CV_COND, ("Opc1", 19, 16), ("Rt2", 14, 10), ("Rt", 9, 5), ("CRm", 4, 1), _DIR)
_LDC = (*_CV_COND, ("imm8", 19, 12), ("Rn", 9, 5), ("Offset", 4, 4), ("AM", 3, 1), _DIR)
_SYS64 = (("Op0", 21, 20), ("Op2", 19, 17), ("Op1", 16, 14), ("CRn", 13, 10), ("Rt", 9, 5),
          ("CRm", 4, 1), _DIR)
_FP_EXC = (("TFV", 23, 23), ("VECITR", 10, 8), ("IDF", 7, 7), ("IXF", 4, 4), ("UFF", 3, 3),
           ("OFF", 2, 2), ("DZF", 1, 1), ("IOF", 0, 0))
_WATCHPOINT = (("WPT", 23, 18), ("WPTV", 17, 17), ("WPF", 16, 16), ("FnP", 15, 15),
               ("VNCR", 13, 13), ("FnV", 10, 10), ("CM", 8, 8), ("WnR", 6, 6),
               ("DFSC", 5, 0, Closed(DEBUG_FSC_NAMES)))
_DEBUG = "a debug exception"

_TRAPS = [
    _esr("Unknown reason", {0x00}, (), il1="an EC 0x00 exception"),
    _esr("Illegal Execution state", {0x0E}, (), il1="an Illegal Execution state exception"),
    _esr("PC or SP alignment fault", {0x22, 0x26}, (), il1="an alignment fault"),
    _esr("ISS RES0", {0x09, 0x19}, ()),
    _esr("WF* instruction", {0x01},
         (*_CV_COND, ("RN", 9, 5), ("RV", 2, 2), ("TI", 1, 0, WFX_TI_NAMES))),
    _esr("MCR or MRC access", {0x03, 0x05, 0x08}, _MCR),
    _esr("MCRR or MRRC access", {0x04, 0x0C}, _MCRR),
    _esr("LDC or STC access", {0x06}, _LDC),
    _esr("SVE, Advanced SIMD or floating-point access", {0x07}, _CV_COND),
    _esr("LD64B or ST64B* instruction", {0x0A}, (("ISS", 24, 0, OTHER_ISS_NAMES),)),
    _esr("Branch Target Exception", {0x0D}, (("BTYPE", 1, 0),)),
    _esr("HVC or SVC instruction", {0x11, 0x12, 0x15, 0x16, 0x17}, (("imm16", 15, 0),)),
    _esr("SMC instruction in AArch32 state", {0x13}, (*_CV_COND, ("CCKNOWNPASS", 19, 19))),
    _esr("MSR, MRS or System instruction", {0x18}, _SYS64, derive=_sys64),
    _esr("ERET, ERETAA or ERETAB", {0x1A}, (("ERET", 1, 1), ("ERETA", 0, 0))),
    _esr("PAC Fail", {0x1C}, (("DnI", 1, 1), ("BnA", 0, 0))),
    _esr("SME functionality", {0x1D}, (("SMTC", 2, 0, SMTC_NAMES),)),
    _esr("Trapped floating-point exception", {0x28, 0x2C}, _FP_EXC),
    _esr("Breakpoint or Vector Catch", {0x30, 0x31, 0x3A},
         (("IFSC", 5, 0, Closed(DEBUG_FSC_NAMES)),), il1=_DEBUG),
    _esr("Software Step", {0x32, 0x33},
         (("ISV", 24, 24), ("EX", 6, 6), ("IFSC", 5, 0, Closed(DEBUG_FSC_NAMES))), il1=_DEBUG),
    _esr("Watchpoint", {0x34, 0x35}, _WATCHPOINT, (("GCS", 40, 40),), il1=_DEBUG),
    _esr("Breakpoint instruction", {0x38, 0x3C}, (("Comment", 15, 0),)),
]

_LAYOUTS = [*_data_aborts(), *_INSTRUCTION_ABORTS, *_SERRORS, *_TRAPS]
_COVERED = set().union(*(lay.when["EC"] for lay in _LAYOUTS))
_LAYOUTS.append(_esr("ISS not decoded", set(range(64)) - _COVERED, (("ISS", 24, 0),), _ISS2_RAW))

ESR_ELx = Variants("ESR_ELx", _LAYOUTS, key="EC", value_type=EsrValue)
"""ESR_EL1/ESR_EL2/ESR_EL3 (same layout): decode, encode, one layout per ISS encoding."""

_RAW = {"ISS": (0, 0x1FFFFFF), "ISS2": (32, 0xFFFFFF)}


def decode_esr(value: int) -> EsrValue:
    """Decode an ESR_ELx value (up to 64 bits); odd contents go to ``.problems``."""
    return ESR_ELx.decode(value)  # type: ignore[return-value]


def encode_esr(**fields: int) -> int:
    """Fields (Arm ARM names) -> ESR value. ``ISS``/``ISS2`` may also be given whole."""
    raw = {k: fields.pop(k) for k in list(fields) if k in _RAW and not _has_raw(fields, k)}
    value = ESR_ELx.encode(**fields) if fields else 0
    for k, v in raw.items():
        shift, mask = _RAW[k]
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= mask:
            raise FormatError(f"{k}={v!r} does not fit in {mask.bit_length()} bits",
                              path=f"ESR_ELx.{k}")
        if value & (mask << shift):
            raise FormatError(f"{k} given both whole and by its fields", path=f"ESR_ELx.{k}")
        value |= v << shift
    return value


def _has_raw(fields: Mapping[str, int], k: str) -> bool:
    """True when the EC given selects a layout where ``k`` is itself a field."""
    ec = fields.get("EC", 0)
    return isinstance(ec, int) and any(
        k in lay.by_name for lay in ESR_ELx._index.get(ec, ()) if lay.label != "ISS not decoded"
    )
