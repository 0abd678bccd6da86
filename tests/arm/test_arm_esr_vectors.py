"""ESR vectors from the reference sheet (arm-architecture.md section 6): google's
aarch64-esr-decoder upstream tests and the values generated from it at 04ef7573.

Where that decoder is wrong or older than the Arm ARM, we follow the Arm ARM and say so.
"""

import pytest

from rasflow.formats import arm
from rasflow.formats.errors import FormatError

SEA_NAME = "Synchronous External abort, not on translation table walk"


def iss(e):
    return e.to_dict()["ISS"]


# --- upstream tests (src/esr/tests.rs) ---------------------------------------------------
def test_zero():
    e = arm.decode_esr(0x0)
    assert (e.ec, e.il, e.iss) == (0, 0, 0)
    assert e.ec_name == "Unknown reason"
    assert e.name("IL") == "16-bit instruction trapped"
    assert e.fields["RES0_24_0"] == 0
    # The Arm ARM says EC 0b000000 exceptions report IL=1; the reference decoder does not
    # check IL, we report it as a problem (the fields still decode).
    assert e.problems == ["IL is 0, but an EC 0x00 exception always reports IL=1"]


def test_96000050_dabt_same_el():
    e = arm.decode_esr(0x96000050)
    assert e.ec == 0x25 and e.il == 1 and e.iss == 80
    assert e.ec_name == "Data Abort taken without a change in Exception level"
    f = e.fields
    assert f["ISV"] == 0 and f["VNCR"] == 0 and f["SET"] == 0
    assert e.name("SET") == "Recoverable state (UER)"
    assert (f["FnV"], f["EA"], f["CM"], f["S1PTW"], f["WnR"]) == (0, 0, 0, 0, 1)
    assert f["DFSC"] == 0x10 and e.name("DFSC").startswith(SEA_NAME)
    # The decoder's RES0(14..23): the Arm ARM now defines FnP (15) and PFV (14) for a
    # synchronous External abort with ISV=0 (FEAT_RASv2/FEAT_PFAR); 23:16 stay RES0.
    assert f["RES0_23_16"] == 0 and f["FnP"] == 0 and f["PFV"] == 0
    assert e.problems == []


def test_97523050_dabt_with_syndrome():
    e = arm.decode_esr(0x97523050)
    f = e.fields
    assert e.ec == 0x25 and e.il == 1
    assert f["ISV"] == 1 and f["SAS"] == 1 and e.name("SAS") == "Halfword"
    assert (f["SSE"], f["SRT"], f["SF"], f["AR"], f["VNCR"]) == (0, 18, 0, 0, 1)
    assert f["SET"] == 2 and e.name("SET") == "Uncontainable (UC)"
    assert (f["FnV"], f["EA"], f["CM"], f["S1PTW"], f["WnR"], f["DFSC"]) == (0, 0, 0, 0, 1, 16)
    assert e.problems == []


def test_82001e10_iabt_lower():
    e = arm.decode_esr(0x82001E10)
    f = e.fields
    assert e.ec == 0x20 and e.il == 1 and e.iss == 7696
    assert e.ec_name == "Instruction Abort from a lower Exception level"
    assert f["SET"] == 3 and e.name("SET") == "Restartable state (UEO)"
    assert (f["FnV"], f["EA"], f["S1PTW"], f["IFSC"]) == (1, 1, 0, 16)
    assert e.problems == []


def test_1f300000_fp_trap():
    e = arm.decode_esr(0x1F300000)
    assert e.ec == 7 and e.iss == 19922944
    assert e.fields["CV"] == 1 and e.fields["COND"] == 3 and e.fields["RES0_19_0"] == 0


def test_2a000002_ld64b():
    e = arm.decode_esr(0x2A000002)
    assert e.ec == 10 and e.fields["ISS"] == 2
    assert e.name("ISS") == "LD64B or ST64B instruction trapped"


# --- generated with the decoder, not upstream tests ------------------------------------
def test_serror_uncategorized():
    e = arm.decode_esr(0xBE000000)
    assert e.ec == 0x2F and e.ec_name == "SError exception"
    assert e.fields["IDS"] == 0 and e.fields["DFSC"] == 0 and e.name("DFSC") == "Uncategorized error"
    # The decoder also prints "AET 0 (UC)": in the Arm ARM AET, EA and IESB are RES0 unless
    # DFSC is 0x11 (arm64_ras_serror_get_severity relies on this), so they are not fields.
    assert "AET" not in e.fields and e.fields["RES0_23_6"] == 0
    assert e.problems == []


@pytest.mark.parametrize("value,aet,name", [
    (0xBE000011, 0, "Uncontainable (UC)"),
    (0xBE000411, 1, "Unrecoverable state (UEU)"),
    (0xBE000811, 2, "Restartable state (UEO)"),
    (0xBE000C11, 3, "Recoverable state (UER)"),
    # The decoder returns InvalidAet{aet: 6} (it matches 0x110, not 0b110): wrong. In the
    # Arm ARM 0b110 is CE.
    (0xBE001811, 6, "Corrected (CE)"),
])
def test_serror_aet(value, aet, name):
    e = arm.decode_esr(value)
    assert e.fields["AET"] == aet and e.name("AET") == name
    assert e.fields["IESB"] == 0 and e.fields["DFSC"] == 0x11
    assert e.name("DFSC") == "Asynchronous SError exception"
    assert e.problems == []


def test_serror_iesb_and_ea():
    assert arm.decode_esr(0xBE002011).fields["IESB"] == 1
    assert arm.decode_esr(0xBE000211).fields["EA"] == 1


def test_serror_impdef():
    e = arm.decode_esr(0xBF123456)
    assert e.fields["IDS"] == 1 and e.fields["IMPDEF"] == 0x123456
    assert iss(e)["IMPDEF"] == 0x123456 and e.problems == []


def test_serror_reserved_dfsc():
    # The decoder returns InvalidFsc{fsc: 18}; we decode and report it.
    e = arm.decode_esr(0xBE000012)
    assert e.fields["DFSC"] == 0x12
    assert e.problems == ["DFSC 0x12 is reserved"]


def test_dabt_lower_sea_uc():
    e = arm.decode_esr(0x92001010)
    assert e.ec == 0x24 and e.ec_name == "Data Abort from a lower Exception level"
    assert e.fields["SET"] == 2 and e.fields["WnR"] == 0 and e.fields["DFSC"] == 0x10


def test_dabt_fnv_ea():
    f = arm.decode_esr(0x92000610).fields
    assert (f["FnV"], f["EA"], f["SET"]) == (1, 1, 0)


def test_dabt_parity_has_no_set():
    e = arm.decode_esr(0x96000018)
    assert e.name("DFSC") == ("Synchronous parity or ECC error on memory access, "
                              "not on translation table walk")
    assert "SET" not in e.fields and e.fields["RES0_12_11"] == 0


@pytest.mark.parametrize("value,reg", [(0x62341409, "ERXSTATUS_EL1"), (0x62323003, "DISR_EL1")])
def test_msr_mrs(value, reg):
    e = arm.decode_esr(value)
    d = e.to_dict()
    assert e.ec == 0x18 and d["sysreg"] == reg and d["instruction"] == f"MRS x0, {reg}"
    assert e.fields["Direction"] == 1 and e.fields["Op0"] == 3 and e.fields["Rt"] == 0


def test_msr_mrs_fields():
    f = arm.decode_esr(0x62341409).fields
    assert (f["Op0"], f["Op2"], f["Op1"], f["CRn"], f["CRm"], f["Rt"]) == (3, 2, 0, 5, 4, 0)


def test_hvc():
    e = arm.decode_esr(0x5A000001)
    assert e.ec == 0x16 and e.fields["imm16"] == 1


def test_reserved_ec():
    # The decoder returns InvalidEc{ec: 2}; we decode the ISS whole and report it.
    e = arm.decode_esr(0x08000000)
    assert e.ec == 2 and e.fields["ISS"] == 0
    assert e.problems == ["EC 0x02 is reserved"]


def test_dabt_pfv():
    # The decoder returns InvalidRes0{res0: 1} for ISS[14] with ISV=0. The Arm ARM
    # (FEAT_PFAR) defines ISS[14] as PFV, "PFAR valid", for a synchronous External abort.
    e = arm.decode_esr(0x96004050)
    assert e.fields["PFV"] == 1 and e.problems == []


def test_res0_in_dabt_is_a_problem_not_an_error():
    e = arm.decode_esr(0x96400018)  # ISV=0, ISS[22] set, DFSC 0x18
    assert e.problems == ["RES0 bits [23:14] are 0x100, not zero"]


# --- encode -----------------------------------------------------------------------------
def test_encode_examples():
    assert arm.encode_esr(EC=0x24, IL=1, DFSC=0x10) == 0x92000010
    assert arm.encode_esr(EC=0x2F, IL=1, AET=3, DFSC=0x11) == 0xBE000C11
    assert arm.encode_esr(EC=0x2F, IL=1, IDS=1) == 0xBF000000
    assert arm.encode_esr(EC=0x2F, IL=1, ISS=0x1000000) == 0xBF000000
    assert arm.encode_esr(EC=0x24, IL=1, DFSC=0x10, ISS2=0) == 0x92000010
    assert arm.encode_esr(EC=0x18, IL=1, Op0=3, Op2=2, CRn=5, CRm=4, Direction=1) == 0x62341409


def test_encode_keeps_malformed_values():
    v = arm.encode_esr(EC=0x24, IL=1, SET=2, DFSC=0x18)  # SET exists only for DFSC 0x10
    assert v == 0x92001018
    assert arm.decode_esr(v).problems == ["RES0 bits [12:11] are 0b10, not zero"]


@pytest.mark.parametrize("fields,path", [
    ({"EC": 0x25, "DFSC": 0x40}, "ESR_ELx.DFSC"),
    ({"EC": 0x40}, "ESR_ELx.EC"),
    ({"EC": 0x24, "Bogus": 1}, "ESR_ELx.Bogus"),
    ({"EC": 0x2F, "ISS": 1 << 25}, "ESR_ELx.ISS"),
    ({"EC": 0x24, "DFSC": 0x10, "ISS": 1}, "ESR_ELx.ISS"),
])
def test_encode_errors_name_the_field(fields, path):
    with pytest.raises(FormatError) as exc:
        arm.encode_esr(**fields)
    assert exc.value.path == path


def test_encode_fields_of_two_layouts():
    with pytest.raises(FormatError, match="no single ESR_ELx layout"):
        arm.encode_esr(EC=0x24, Op0=3)


@pytest.mark.parametrize("value", [-1, 1 << 64, "0x10", 1.5, None])
def test_decode_rejects_values_that_do_not_fit(value):
    with pytest.raises(FormatError):
        arm.decode_esr(value)


def test_to_dict_nested():
    d = arm.decode_esr(0x92000610).to_dict()
    assert d["register"] == "ESR_ELx" and d["value"] == 0x92000610
    assert d["EC"] == 0x24 and d["EC_name"] == "Data Abort from a lower Exception level"
    assert d["ISS"]["value"] == 0x610 and d["ISS"]["DFSC"] == 0x10
    assert d["ISS"]["DFSC_name"].startswith(SEA_NAME)
    assert d["ISS2"] == {"value": 0, "RES0_55_44": 0, "HDBSSF": 0, "TnD": 0, "TagAccess": 0,
                         "GCS": 0, "AssuredOnly": 0, "Overlay": 0, "DirtyBit": 0, "Xs": 0}
    assert d["problems"] == []
    generic = arm.decode_esr(0x7C000005).to_dict()  # EC 0x1F: ISS kept whole
    assert generic["ISS"] == {"value": 5} and generic["ISS2"] == {"value": 0}


def test_iss2_and_properties():
    e = arm.decode_esr(0x0000_0401_9200_0010)  # TnD (ISS2[10]) and Xs=1
    assert e.iss2 == 0x401 and e.fields["TnD"] == 1 and e.fields["Xs"] == 1
    assert arm.decode_esr(1 << 56 | 1 << 25).problems == ["RES0 bits [63:56] are 0x01, not zero"]
