"""System registers, RAS error records and the decode_register entry point."""

import pytest

from rasflow.formats import arm
from rasflow.formats.arm import ras, sysreg
from rasflow.formats.errors import FormatError


def bit(reg, name):
    f = reg.layouts[0].by_name[name]
    return f.lsb if f.width == 1 else (f.msb, f.lsb)


@pytest.mark.parametrize("reg,positions", [
    (sysreg.HCR_EL2, {"VM": 0, "FMO": 3, "IMO": 4, "AMO": 5, "VF": 6, "VI": 7, "VSE": 8,
                      "TWI": 13, "TWE": 14, "TSC": 19, "TGE": 27, "RW": 31, "E2H": 34,
                      "TERR": 36, "TEA": 37, "FIEN": 47}),
    (sysreg.SCR_EL3, {"NS": 0, "IRQ": 1, "FIQ": 2, "EA": 3, "SMD": 7, "HCE": 8, "RW": 10,
                      "ST": 11, "TWI": 12, "TWE": 13, "TERR": 15, "EASE": 19, "NMEA": 20,
                      "FIEN": 21, "TMEA": 51, "TWERR": 52, "DSE": 57, "EnDSE": 58, "NSE": 62}),
    (sysreg.SCTLR_ELx, {"M": 0, "A": 1, "C": 2, "SA": 3, "EOS": 11, "I": 12, "IESB": 21,
                        "EIS": 22, "EE": 25}),
    (sysreg.ISR_EL1, {"F": 6, "I": 7, "A": 8, "FS": 9, "IS": 10}),
])
def test_bit_positions(reg, positions):
    assert {n: bit(reg, n) for n in positions} == positions


def test_hcr_and_scr_values():
    h = arm.decode_register("hcr", 0x8000_0000 | 1 << 5 | 1 << 8)
    assert (h["RW"], h["AMO"], h["VSE"], h["TGE"]) == (1, 1, 1, 0) and h.problems == []
    assert arm.HCR_EL2.encode(AMO=1, VSE=1, TEA=1) == 0x20_0000_0120
    s = arm.decode_register("scr", 0x73D)
    assert (s["EA"], s["NS"], s["RW"]) == (1, 1, 1) and s.problems == []
    assert arm.decode_register("scr", 0x1).problems == [
        "RES1 bits [5:4] are 0b00, not all ones"]


def test_spsr_modes():
    s = arm.decode_register("spsr", 0x3C5)
    assert (s["D"], s["A"], s["I"], s["F"], s["M[4]"]) == (1, 1, 1, 1, 0)
    assert s.name("M[3:0]") == "EL1h" and s.problems == []
    assert [arm.SPSR_ELx.decode(m).name("M[3:0]") for m in (0, 4, 5, 8, 9, 12, 13)] == [
        "EL0t", "EL1t", "EL1h", "EL2t", "EL2h", "EL3t", "EL3h"]
    assert arm.SPSR_ELx.decode(0x6).problems == ["M[3:0] 0b0110 is reserved"]
    a32 = arm.decode_register("spsr", 0x1D3)
    assert a32.layout.label == "SPSR_ELx (from AArch32)" and a32.name("M[3:0]") == "Supervisor"
    assert arm.SPSR_ELx.encode(**{"M[4]": 0, "M[3:0]": 9, "A": 1}) == 0x109
    assert arm.decode_register("spsr", 1 << 21 | 1 << 20)["SS"] == 1


def test_midr_mpidr():
    m = arm.decode_register("midr", 0x410FD0C0)
    d = m.to_dict()
    assert d["Implementer_name"] == "Arm Limited" and d["PartNum_name"] == "Neoverse-N1"
    assert (m["Variant"], m["Architecture"], m["PartNum"], m["Revision"]) == (0, 0xF, 0xD0C, 0)
    names = {p: arm.MIDR_EL1.decode(0x410F0000 | p << 4).to_dict()["PartNum_name"]
             for p in (0xD40, 0xD49, 0xD4F)}
    assert names == {0xD40: "Neoverse-V1", 0xD49: "Neoverse-N2", 0xD4F: "Neoverse-V2"}
    other = arm.MIDR_EL1.decode(0x990FD0C0).to_dict()
    assert other["Implementer_name"] == "unknown (0x99)"
    assert other["PartNum_name"] == "unknown (0xd0c)"  # part names depend on the implementer
    assert arm.MIDR_EL1.decode(0xC00FAC30).to_dict()["PartNum_name"] == "AmpereOne"
    p = arm.decode_register("mpidr", 0x8100_0100 | 0x3 << 32)
    assert (p["Aff0"], p["Aff1"], p["Aff2"], p["Aff3"], p["MT"], p["U"]) == (0, 1, 0, 3, 1, 0)
    assert arm.MPIDR_EL1.decode(0).problems == ["RES1 bit [31] is 0, not 1"]


def test_disr_both_forms():
    d = arm.decode_register("disr", 0x80000C11)
    assert d.layout.label == "DISR_EL1, IDS=0"
    assert (d["A"], d["IDS"], d["AET"], d["EA"], d["DFSC"]) == (1, 0, 3, 0, 0x11)
    assert d.name("AET") == "Recoverable state (UER)" and d.problems == []
    i = arm.decode_register("disr", 0x81ABCDEF)
    assert (i["A"], i["IDS"], i["IMPDEF"]) == (1, 1, 0xABCDEF)
    assert arm.DISR_EL1.encode(A=1, AET=3, DFSC=0x11) == 0x80000C11
    assert arm.DISR_EL1.decode(0x80002C11).problems == ["RES0 bits [15:13] are 0b001, not zero"]


def test_vdisr_and_vsesr():
    v = arm.decode_register("vdisr", 0x80000C11)
    assert v["A"] == 1 and v["AET"] == 3 and v.to_dict()["ISS"]["AET_name"] == \
        "Recoverable state (UER)"
    assert arm.decode_register("vdisr", 0x81000000)["IDS"] == 1
    s = arm.decode_register("vsesr", 0xC11)
    assert s["IDS"] == 0 and s["AET"] == 3 and s.to_dict()["ISS"]["value"] == 0xC11
    assert arm.decode_register("vsesr", 1 << 25).problems == [
        "RES0 bits [63:25] are 0x0000000001, not zero"]
    a32 = arm.decode_vsesr(0xD000, aarch32=True)
    assert (a32["AET"], a32["ExT"]) == (3, 1) and a32.name("AET") == "Recoverable state (UER)"


def test_err_status():
    s = arm.decode_register("errstatus", 0xE420000C)
    assert (s["AV"], s["V"], s["UE"], s["MV"], s["UET"], s["SERR"]) == (1, 1, 1, 1, 2, 0x0C)
    assert s.name("UET") == "Restartable state (UEO)"
    assert s.name("SERR") == "Data value from (non-associative) external memory"
    assert s.problems == []
    assert arm.decode_register("errstatus", 0x40100000).problems == [
        "UET is RES0 when UE is 0, but it is not zero"]
    serr = {c: arm.ERR_STATUS.decode(c).name("SERR") for c in (0x00, 0x02, 0x15, 0x16)}
    assert serr == {0x00: "No error", 0x02: "Data value from (non-associative) internal memory",
                    0x15: "Deferred error from slave not supported at master",
                    0x16: "unknown (0x16)"}
    ce = arm.ERR_STATUS.encode(V=1, CE=0b10)
    assert ce == 0x42000000 and arm.ERR_STATUS.decode(ce).name("CE").startswith("At least one")


def test_err_addr_fr_ctlr():
    a = arm.decode_register("erraddr", 0x8000_0000_1234_5000)
    assert a["NS"] == 1 and a["PADDR"] == 0x12345000
    assert a.to_dict()["address_space"] == "Non-secure"
    assert arm.ERR_ADDR.decode(1 << 59).to_dict()["address_space"] == "Root"
    assert arm.ERR_ADDR.decode(1 << 57).problems == ["RES0 bits [58:56] are 0b010, not zero"]
    fr = arm.decode_register("errfr", 0x40A5)
    assert (fr["ED"], fr["UI"], fr["FI"], fr["CEC"]) == (1, 2, 2, 0b100)
    assert fr.name("CEC") == "16-bit counter"
    assert arm.ERR_FR.decode(1 << 48).problems == [
        "FRX is 0, so ERR<n>FR[54:48] are RES0, but they are not zero"]
    assert arm.ERR_FR.decode(1 << 31 | 1 << 48)["UC"] == 1
    c = arm.decode_register("errctlr", 0x1D)
    assert (c["ED"], c["UI"], c["FI"], c["UE"]) == (1, 1, 1, 1)


def test_err_misc0_forms():
    v = 0x8005_8000_0000_0007 | 0x3 << 32
    assert arm.decode_errmisc0(v, fr=0x2000)["CEC"] == 0x03  # 8-bit: OF 39, CEC 38:32
    m16 = arm.decode_errmisc0(v, fr=0x4000)
    assert (m16["OF"], m16["CEC"]) == (1, 0x03)
    rp = arm.decode_errmisc0(v, fr=0xC000)
    assert (rp["OFO"], rp["CECO"], rp["OFR"], rp["CECR"]) == (1, 5, 1, 3)
    assert arm.decode_errmisc0(v, fr=0)["IMPDEF"] == v
    assert arm.decode_register("errmisc0", v).layout is ras.ERR_MISC0_CEC16
    assert arm.decode_register("errmisc0", v, fr=0xC000).layout is ras.ERR_MISC0_CEC16_RP


def test_error_record_memory_map():
    assert arm.ERR_RECORD_STRIDE == 64
    assert arm.ERR_RECORD_OFFSETS == {"FR": 0x00, "CTLR": 0x08, "STATUS": 0x10, "ADDR": 0x18,
                                      "MISC0": 0x20, "MISC1": 0x28, "MISC2": 0x30,
                                      "MISC3": 0x38}
    assert arm.err_record_offset(2, "status") == 0x90
    raw = b"".join(i.to_bytes(8, "little") for i in range(1, 9))
    rec = arm.ErrRecord.decode(raw)
    assert rec.err_status == 3 and rec.err_misc3 == 8 and rec.encode() == raw
    with pytest.raises(FormatError):
        arm.err_record_offset(0, "MISC9")
    with pytest.raises(FormatError):
        arm.err_record_offset(56, "FR")


def test_decode_register_kinds_and_errors():
    for kind in arm.KINDS:
        v = arm.decode_register(kind, 0)
        assert {"register", "value", "problems"} <= v.to_dict().keys()
    assert arm.decode_register("ESR", 0x96000050).fields["DFSC"] == 0x10
    with pytest.raises(FormatError) as exc:
        arm.decode_register("esrr", 0)
    assert "esr" in exc.value.message and "errmisc0" in exc.value.message
    with pytest.raises(FormatError):
        arm.decode_register("isr", 1 << 64)
    with pytest.raises(FormatError):
        arm.decode_register("errfr", -1)
