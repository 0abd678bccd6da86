"""Describers: a decoded Arm register -> lines naming every field, its value and meaning,
then what the Linux kernel and KVM would do with it (for syndromes and error records).

Returns lines; never prints. Codec modules never import this one.
"""

from __future__ import annotations

from collections.abc import Callable

from . import kernel as k
from .esr import decode_esr
from .names import AET_SHORT, ESR_CLASS_STR, SET_NAMES, UET_NAMES
from .register import RegValue, name_of

_BIT = {  # single bits: {0: meaning, 1: meaning} or one line about the field
    "IL": {0: "16-bit instruction trapped", 1: "32-bit instruction trapped"},
    "ISV": {0: "no valid instruction syndrome (ISS[23:14] not valid)",
            1: "instruction syndrome valid (SAS, SSE, SRT, SF, AR)"},
    "SSE": {0: "no sign extension", 1: "load must be sign extended"},
    "SRT": "Syndrome Register Transfer: the Xt/Wt of the faulting load or store",
    "SF": {0: "32-bit register transfer", 1: "64-bit register transfer"},
    "AR": {0: "no acquire/release semantics", 1: "acquire/release semantics"},
    "VNCR": {0: "not from VNCR_EL2 use", 1: "fault came from EL1 use of VNCR_EL2"},
    "FnV": {0: "FAR is valid", 1: "FAR is not valid, it holds an UNKNOWN value"},
    "FnP": {0: "FAR is precise (if valid)", 1: "FAR is not precise"},
    "PFV": {0: "PFAR is not valid", 1: "PFAR holds the faulting physical address"},
    "EA": {0: "External abort type 0 (IMPLEMENTATION DEFINED classification)",
           1: "External abort type 1 (IMPLEMENTATION DEFINED classification)"},
    "CM": {0: "not a cache maintenance/AT instruction",
           1: "from a cache maintenance or address translation instruction"},
    "S1PTW": {0: "not on a stage 1 table walk",
              1: "stage 2 fault on a stage 1 translation table walk"},
    "WnR": {0: "abort caused by reading from memory", 1: "abort caused by writing to memory"},
    "IDS": {0: "architecturally-defined syndrome (AET, EA, DFSC)",
            1: "IMPLEMENTATION DEFINED syndrome"},
    "IESB": {0: "not by an implicit error synchronization event",
             1: "taken by an implicit error synchronization event (SCTLR_ELx.IESB)"},
    "WU": "Write Update: whether a store that got an External abort updated memory",
    "VFV": {0: "FAR does not hold a valid address", 1: "FAR holds a valid virtual address"},
    "WnRV": {0: "WnR is not valid", 1: "WnR is valid"},
    "IMPDEF": "IMPLEMENTATION DEFINED",
    "CV": {0: "COND is not valid", 1: "COND is valid"},
    "COND": "condition code of the trapped AArch32 instruction",
    "imm16": "immediate of the HVC/SVC/SMC instruction",
    "Comment": "comment field of the BRK/BKPT instruction",
    "Rt": "general-purpose register transferred",
    "Xs": "register specifier of an ST64BV/ST64BV0",
    "TFV": {0: "trapped floating-point bits not valid", 1: "IDF..IOF are valid"},
}
_REG_DOC = {
    "HCR_EL2": {
        "VM": "stage 2 translation enable", "SWIO": "set/way invalidation override",
        "FMO": "physical FIQ routed to EL2", "IMO": "physical IRQ routed to EL2",
        "AMO": "physical SError routed to EL2; enables virtual SError",
        "VF": "virtual FIQ pending", "VI": "virtual IRQ pending",
        "VSE": "virtual SError pending (syndrome in VSESR_EL2)",
        "TWI": "trap WFI to EL2", "TWE": "trap WFE to EL2", "TSC": "trap SMC to EL2",
        "TVM": "trap writes of virtual memory controls", "TGE": "trap general exceptions (host EL0)",
        "RW": {0: "EL1 is AArch32", 1: "EL1 is AArch64"},
        "E2H": "EL2 host (VHE)", "TERR": "trap error record register accesses to EL2",
        "TEA": "route synchronous External aborts from EL0/EL1 to EL2",
        "FIEN": "allow EL1 access to fault injection registers (ERXPFG*)",
    },
    "SCR_EL3": {
        "NS": {0: "lower ELs are Secure", 1: "lower ELs are Non-secure"},
        "IRQ": "physical IRQ routed to EL3", "FIQ": "physical FIQ routed to EL3",
        "EA": "External aborts and SErrors routed to EL3 (firmware first)",
        "SMD": "SMC disabled", "HCE": "HVC enabled", "RW": {0: "EL2/EL1 AArch32", 1: "AArch64"},
        "ST": "trap Secure EL1 physical timer access", "TWI": "trap WFI to EL3",
        "TWE": "trap WFE to EL3", "TERR": "trap error record register accesses to EL3",
        "FIEN": "allow fault injection register access", "EEL2": "Secure EL2 enable",
        "EASE": "External aborts taken to the SError vector",
        "NMEA": "SErrors at EL3 not masked by PSTATE.A",
        "TMEA": "masked External aborts at lower ELs taken to EL3",
        "TWERR": "trap writes of error record registers to EL3",
        "DSE": "delegated SError pending for EL2 and below", "EnDSE": "enable delegated SError",
        "NSE": "with NS, the Security state (Root/Realm with RME)",
    },
    "SPSR_ELx": {
        "N": "negative flag", "Z": "zero flag", "C": "carry flag", "V": "overflow flag",
        "SS": "software step", "IL": "illegal execution state", "D": "debug exceptions masked",
        "A": "SError masked", "I": "IRQ masked", "F": "FIQ masked",
        "PAN": "privileged access never", "DIT": "data independent timing",
        "M[4]": "execution state", "M[3:0]": "exception level and stack pointer",
    },
    "SCTLR_ELx": {
        "M": "MMU enable", "A": "alignment check", "C": "data cacheability",
        "SA": "SP alignment check", "I": "instruction cacheability", "EE": "big-endian data",
        "IESB": "implicit error synchronization event at exception entry and ERET",
        "EIS": "exception entry is context synchronizing",
        "EOS": "exception exit is context synchronizing",
        "WXN": "write implies execute-never",
    },
    "ISR_EL1": {"A": "SError pending", "I": "IRQ pending", "F": "FIQ pending",
                "IS": "IRQ with superpriority pending", "FS": "FIQ with superpriority pending"},
    "MPIDR_EL1": {"U": {0: "part of a multiprocessor system", 1: "uniprocessor"},
                  "MT": "affinity level 0 is threads"},
    "DISR_EL1": {"A": {0: "no SError deferred", 1: "an ESB deferred an SError"}},
    "VDISR_EL2": {"A": {0: "no virtual SError deferred", 1: "an ESB deferred a virtual SError"}},
    "ERR<n>STATUS": {
        "AV": "address valid (ERR<n>ADDR)", "V": "status valid (an error is recorded)",
        "UE": "uncorrected error", "ER": "error reported (an abort was signalled)",
        "OF": "overflow: more errors than recorded", "MV": "miscellaneous registers valid",
        "DE": "deferred error", "PN": "poison value detected", "CI": "critical error",
        "IERR": "IMPLEMENTATION DEFINED error code",
    },
    "ERR<n>ADDR": {"NS": "Non-secure address", "SI": "NS may be wrong",
                   "AI": "PADDR may be wrong", "VA": "PADDR is a virtual address",
                   "NSE": "with NS, the physical address space (RME)",
                   "PADDR": "address of the error"},
    "ERR<n>FR": {"FRX": "feature register extension (bits 63:48 defined)",
                 "RP": "repeat counter implemented", "CEO": "corrected error overwrite",
                 "INJ": "fault injection", "TS": "timestamp"},
    "ERR<n>MISC0": {"OF": "counter overflowed", "CEC": "corrected error count",
                    "OFO": "other counter overflowed", "CECO": "other corrected error count",
                    "OFR": "repeat counter overflowed", "CECR": "repeat corrected error count"},
}
_AET_WHY = {
    0b000: "Uncontainable: the error may have been silently propagated",
    0b001: "Unrecoverable state: the PE state is not known to be correct",
    0b010: "Restartable state: the error has not been consumed; execution can go on",
    0b011: ("Recoverable state: the error was consumed but contained; software can "
            "recover only if it knows what consumed it"),
    0b110: "Corrected: no further action needed",
}
_KVM_WHAT = {
    "kvm_inject_serror": ("kvm_inject_serror() (kvm_inject_vabt() before v6.17): the guest "
                          "gets an SError with ESR_ELx_ISV, i.e. IDS=1 (via HCR_EL2.VSE and "
                          "VSESR_EL2, or pended at once if unmasked); the host keeps running "
                          "and the vCPU resumes"),
    "arm64_serror_panic": "arm64_serror_panic(): the host panics (the guest is lost with it)",
    "ignore": "nothing to do: the error is dropped and the vCPU resumes",
}


def describe(value: RegValue, *, has_ras: bool = True) -> list[str]:
    """Lines for a decoded register: every field, then problems, then the kernel's view.

    ``has_ras`` is the CPU's RAS extension (``ARM64_HAS_RAS_EXTN``) for the SError rules.
    """
    reg, lay = value.register, value.layout
    head = f"{reg.name} = {value.value:#0{reg.width // 4 + 2}x}"
    if lay.label != reg.name:
        head += f"  ({lay.label})"
    lines = [head, *_field_lines(value)]
    lines += [f"problem: {p}" for p in value.problems]
    extra = _EXTRA.get(reg.name)
    if extra is not None:
        lines += extra(value, has_ras)
    return lines


def _meaning(value: RegValue, name: str) -> str:
    f = value.layout.by_name[name]
    v = value.fields[name]
    if f.kind:
        return "RES0, should be zero" if f.kind == "RES0" else "RES1, should be all ones"
    if f.names is not None:
        return name_of(f.names, v)
    doc = _REG_DOC.get(value.register.name, {}).get(name, _BIT.get(name, ""))
    if isinstance(doc, dict):
        return doc.get(v, "")
    if doc and f.width == 1:  # a one-bit control or flag: say whether it is set
        return f"{doc}: {'yes' if v else 'no'}"
    return doc


def _fmt(v: int, width: int) -> str:
    if width == 1:
        return str(v)
    return f"0b{v:0{width}b}" if width <= 4 else f"{v:#x}"


def _field_lines(value: RegValue) -> list[str]:
    lay = value.layout
    shown = [f for f in lay.fields if not (f.kind and value.fields[f.name] == 0)]
    width = max((len(f.name) for f in shown), default=0)
    lines, done = [], set()
    for f in shown:
        group = next(((g, m, l_) for g, m, l_ in lay.groups if l_ <= f.lsb and f.msb <= m), None)
        indent = "  "
        if group is not None:
            g, msb, lsb = group
            if g not in done:
                done.add(g)
                gv = value.value >> lsb & ((1 << (msb - lsb + 1)) - 1)
                lines.append(f"  {g:<{width}} = {gv:#x}")
            if f.name == g:
                continue
            indent = "    "
        text = f"{indent}{f.name:<{width}} = {_fmt(value.fields[f.name], f.width):<8}"
        meaning = _meaning(value, f.name)
        lines.append(f"{text} {meaning}".rstrip())
    if lay.derive is not None:
        lines += [f"  {key} = {val}" for key, val in lay.derive(value.fields).items()]
    return lines


# --- What the kernel and KVM make of it ----------------------------------------------------
def serror_lines(esr: int, *, has_ras: bool = True, who: str = "host",
                 kvm: bool = True) -> list[str]:
    """The kernel's handling of an SError ESR: severity, do_serror() and KVM's view."""
    ras = k.arm64_is_ras_serror(esr, has_ras=has_ras)
    why = "IDS=0 and RAS" if ras else ("IDS=1: IMPLEMENTATION DEFINED syndrome"
                                       if esr & k.ESR_ELx_IDS else "no RAS extension")
    sev = k.arm64_ras_serror_get_severity(esr, has_ras=has_ras)
    short = AET_SHORT.get(sev >> k.ESR_ELx_AET_SHIFT, "?")
    lines = [f"kernel: arm64_is_ras_serror() = {ras} ({why})",
             f"kernel: arm64_ras_serror_get_severity() = ESR_ELx_AET_{short}"]
    if ras and esr & k.ESR_ELx_FSC != k.ESR_ELx_FSC_SERROR:
        lines[-1] += " (DFSC is not 0x11: AET is RES0, so the severity is unknown)"
    if ras:
        lines.append(f"severity: {short}: {_AET_WHY.get(sev >> k.ESR_ELx_AET_SHIFT, '')}")
    path = k.arm64_fatal_ras_serror_path(esr, has_ras=has_ras)
    action = k.do_serror_action(esr, has_ras=has_ras)
    if not ras:
        why_fatal = "not a RAS SError: the kernel cannot interpret the syndrome"
    elif path == k.NOT_FATAL:
        why_fatal = f"arm64_is_fatal_ras_serror() returns false for {short}: the CPU can make progress"
    elif path == k.FATAL:
        why_fatal = (f"arm64_is_fatal_ras_serror() returns true for {short}: \"The CPU can't make "
                     "progress. The exception may have been imprecise.\" Linux does not recover "
                     "SErrors: it cannot tell from the ESR what consumed the error")
    else:
        why_fatal = (f"{short}: arm64_is_fatal_ras_serror() calls arm64_serror_panic() itself "
                     "(the error may have been silently propagated)")
    if action == k.PANIC:
        lines.append(f"{who}: do_serror(): {why_fatal} -> arm64_serror_panic(): \"SError "
                     f"Interrupt on CPU%d, code {esr:#018x} -- SError\", nmi_panic()")
    else:
        lines.append(f"{who}: do_serror(): {why_fatal} -> ignored, execution continues "
                     "(no signal is sent)")
    if not kvm:
        return lines
    kvm_action = k.kvm_handle_guest_serror_action(esr, has_ras=has_ras)
    lines.append(f"kvm: kvm_handle_guest_serror() for an SError taken from a guest -> "
                 f"{_KVM_WHAT[kvm_action]}")
    if kvm_action == "kvm_inject_serror":
        lines.append("guest: its do_serror() sees IDS=1 (not a RAS SError) and panics the guest")
    return lines


def _sea_lines(e: RegValue) -> list[str]:
    fsc = e.value & k.ESR_ELx_FSC
    lines = []
    if "SET" in e.fields:
        lines.append(f"SET: {name_of(SET_NAMES, e.fields['SET'])}")
    if fsc in (k.ESR_ELx_FSC_EXTABT, k.ESR_ELx_FSC_SECC):
        what = ("synchronous external abort" if fsc == k.ESR_ELx_FSC_EXTABT
                else "synchronous parity or ECC error")
        lines.append(f"kernel: do_sea() (\"{what}\", SIGBUS/BUS_OBJERR): from user mode "
                     "apei_claim_sea() lets firmware-first GHES handle it first "
                     "(memory_failure, SIGBUS BUS_MCEERR_AR); else arm64_notify_die()")
    elif k.esr_fsc_is_sea_ttw(fsc) or k.esr_fsc_is_secc_ttw(fsc):
        lines.append("kernel: do_sea() (translation table walk): SIGKILL, or die() in the kernel")
    if k.esr_is_data_abort(e.value) or e.fields.get("EC") in (0x20, 0x21):
        if k.kvm_vcpu_abt_issea(e.value):
            lines.append("kvm: kvm_vcpu_abt_issea() is true -> kvm_handle_guest_sea(): "
                         "apei_claim_sea(NULL); unclaimed -> a virtual SError for the guest "
                         "(or KVM_EXIT_ARM_SEA when the VMM asked for it)")
    return lines


def _esr_extra(e: RegValue, has_ras: bool) -> list[str]:
    ec = e.value >> 26 & 0x3F
    lines = [f"kernel: esr_get_class_string() = \"{ESR_CLASS_STR.get(ec, 'UNRECOGNIZED EC')}\""]
    if ec == k.ESR_ELx_EC_SERROR:
        lines += serror_lines(e.value, has_ras=has_ras)
    elif ec in (0x20, 0x21, 0x24, 0x25):
        lines += _sea_lines(e)
    return lines


def _disr_extra(d: RegValue, has_ras: bool) -> list[str]:
    if not d.fields["A"]:
        return ["no deferred SError (A=0)"]
    if d.register.name == "DISR_EL1":
        esr = k.disr_to_esr(d.value)
        return [f"kernel: disr_to_esr() = {esr:#x} (KVM's guest exit path passes it to "
                "kvm_handle_guest_serror())", *serror_lines(esr, has_ras=has_ras)]
    esr = (0x2F << 26) | (1 << 25) | (d.value & 0x1FFFFFF)
    return [f"the guest deferred a virtual SError; its ESR would have been {esr:#x}"]


def _vsesr_extra(v: RegValue, has_ras: bool) -> list[str]:
    if "IDS" not in v.fields:  # the AArch32 form
        return []
    esr = (0x2F << 26) | (1 << 25) | (v.value & 0x1FFFFFF)
    return [f"guest: taking the virtual SError writes ESR_EL1 = {esr:#x} "
            f"({decode_esr(esr).layout.label})",
            *serror_lines(esr, has_ras=has_ras, who="guest", kvm=False)]


def _status_extra(s: RegValue, has_ras: bool) -> list[str]:
    f = s.fields
    if not f["V"]:
        return ["record: not valid (V=0): no error recorded"]
    kinds = []
    if f["UE"]:
        kinds.append(f"uncorrected error, {name_of(UET_NAMES, f['UET'])}")
    if f["DE"]:
        kinds.append("deferred error")
    if f["CE"]:
        kinds.append(s.name("CE").lower())
    line = f"record: {'; '.join(kinds) or 'valid, no error class set'}"
    if f["AV"]:
        line += "; ERR<n>ADDR holds the address"
    if f["OF"]:
        line += "; more errors occurred than recorded"
    return [line, f"source: SERR {f['SERR']:#04x}: {s.name('SERR')}"]


def _hcr_extra(h: RegValue, has_ras: bool) -> list[str]:
    f, out = h.fields, []
    if f["AMO"] and not f["TGE"]:
        out.append("SError: physical SErrors from EL0/EL1 go to EL2; virtual SError enabled")
    if f["VSE"]:
        out.append("SError: a virtual SError is pending (VSESR_EL2 gives its syndrome)")
    if f["TEA"]:
        out.append("abort: synchronous External aborts from EL0/EL1 go to EL2")
    return out


def _scr_extra(s: RegValue, has_ras: bool) -> list[str]:
    if s.fields["EA"]:
        return ["EA=1: External aborts and SErrors are taken to EL3 (firmware first); "
                "lower ELs read DISR_EL1 as zero"]
    return ["EA=0: External aborts and SErrors are handled by the kernel first"]


_EXTRA: dict[str, Callable[[RegValue, bool], list[str]]] = {
    "ESR_ELx": _esr_extra,
    "DISR_EL1": _disr_extra,
    "VDISR_EL2": _disr_extra,
    "VSESR_EL2": _vsesr_extra,
    "ERR<n>STATUS": _status_extra,
    "HCR_EL2": _hcr_extra,
    "SCR_EL3": _scr_extra,
}
