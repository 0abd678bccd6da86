"""Property tests for every register declaration and every layout (each EC's ISS)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasflow.formats import arm
from rasflow.formats.arm import ras, sysreg
from rasflow.formats.errors import FormatError

REGISTERS = [
    arm.ESR_ELx, sysreg.HCR_EL2, sysreg.SCR_EL3, sysreg.SCTLR_ELx, sysreg.ISR_EL1,
    sysreg.MIDR_EL1, sysreg.MPIDR_EL1, sysreg.SPSR_ELx, sysreg.DISR_EL1, sysreg.VDISR_EL2,
    sysreg.VSESR_EL2, sysreg.VSESR_EL2_AARCH32, ras.ERR_FR, ras.ERR_CTLR, ras.ERR_STATUS,
    ras.ERR_ADDR, ras.ERR_MISC0_IMPDEF, ras.ERR_MISC0_CEC8, ras.ERR_MISC0_CEC16,
    ras.ERR_MISC0_CEC16_RP, ras.ERRDEVID,
]
LAYOUTS = [(reg, lay) for reg in REGISTERS for lay in reg.layouts]
FAST = settings(max_examples=40, deadline=None)


def _id(x):
    return getattr(x, "label", None) or getattr(x, "name", str(x))


@pytest.mark.parametrize("reg,lay", LAYOUTS, ids=[_id(lay) for _, lay in LAYOUTS])
@FAST
@given(data=st.data())
def test_every_layout_roundtrips(reg, lay, data):
    fields = data.draw(lay.strategy())
    value = lay.encode(**fields)
    dec = reg.decode(value)
    assert dec.layout is lay
    assert dict(dec.fields) == fields
    assert reg.encode(**dec.fields) == value
    assert reg.from_dict(dec.to_dict()) == value


@pytest.mark.parametrize("reg", REGISTERS, ids=_id)
@FAST
@given(raw=st.integers(0, (1 << 64) - 1))
def test_random_values_roundtrip(reg, raw):
    value = raw & ((1 << reg.width) - 1)
    dec = reg.decode(value)
    assert dec.value == value
    assert reg.encode(**dec.fields) == value
    assert sum(lay.matches(value) for lay in reg.layouts) == 1  # layouts are a partition
    assert isinstance(dec.problems, list) and all(isinstance(p, str) for p in dec.problems)


@settings(max_examples=300, deadline=None)
@given(value=st.integers(0, (1 << 64) - 1))
def test_esr_roundtrip_and_helpers_never_raise(value):
    e = arm.decode_esr(value)
    assert arm.encode_esr(**e.fields) == value
    assert e.ec == value >> 26 & 0x3F and e.iss == value & 0x1FFFFFF
    assert e.iss2 == value >> 32 & 0xFFFFFF
    arm.describe(e)
    e.to_dict()


@FAST
@given(value=st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats()))
def test_decode_raises_only_format_error(value):
    for kind in arm.KINDS:
        try:
            arm.decode_register(kind, value)
        except FormatError:
            pass


@pytest.mark.parametrize("reg", REGISTERS, ids=_id)
def test_declarations_cover_the_register(reg):
    for lay in reg.layouts:
        bits = 0
        for f in lay.fields:
            mask = ((1 << f.width) - 1) << f.lsb
            assert not bits & mask, f"{lay.label}: {f.name} overlaps"
            bits |= mask
        assert bits == (1 << reg.width) - 1
