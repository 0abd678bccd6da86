"""The declarative register mechanism itself."""

import pytest

from rasflow.formats.arm import Closed, Register, Variants
from rasflow.formats.errors import FormatError

TOY = Register("TOY", [("A", 7, 4, Closed({0: "zero", 1: "one"})), ("B", 1, 0)], width=8)


def test_gaps_become_res0_fields():
    assert [f.name for f in TOY.fields] == ["A", "RES0_3_2", "B"]
    assert TOY.decode(0x0C).problems == ["RES0 bits [3:2] are 0b11, not zero"]
    assert TOY.encode(**TOY.decode(0x0C).fields) == 0x0C


def test_decode_fields_names_and_problems():
    v = TOY.decode(0x13)
    assert v.value == 0x13 and dict(v.fields) == {"A": 1, "RES0_3_2": 0, "B": 3}
    assert v.name("A") == "one" and v.problems == []
    assert TOY.decode(0x20).problems == ["A 0b0010 is reserved"]
    assert TOY.decode(0x20).name("A") == "unknown (0x2)"
    assert v.to_dict() == {"register": "TOY", "value": 0x13, "A": 1, "A_name": "one",
                           "RES0_3_2": 0, "B": 3, "problems": []}


@pytest.mark.parametrize("spec,msg", [
    ([("A", 7, 4), ("B", 4, 0)], "overlapping"),
    ([("A", 8, 4)], "beyond the register"),
    ([("A", 3, 4)], "bad range"),
    ([("A", 3, 3), ("A", 2, 2)], "duplicate"),
])
def test_bad_declarations_fail_at_import(spec, msg):
    with pytest.raises(TypeError, match=msg):
        Register("BAD", spec, width=8)


def test_groups_must_not_be_straddled():
    with pytest.raises(TypeError, match="straddles"):
        Register("BAD", [("A", 7, 2)], width=8, groups=[("G", 3, 0)])


def test_encode_checks_each_field():
    assert TOY.encode(A=1, B=2) == 0x12
    with pytest.raises(FormatError) as exc:
        TOY.encode(B=4)
    assert exc.value.path == "TOY.B" and "B=0x4 does not fit in 2 bits [1:0]" in exc.value.message
    with pytest.raises(FormatError, match="has no field 'C'"):
        TOY.encode(C=1)
    with pytest.raises(FormatError):
        TOY.encode(B="1")
    with pytest.raises(FormatError):
        TOY.decode(0x100)


def test_values_are_immutable_and_replace_reencodes():
    v = TOY.decode(0x13)
    with pytest.raises(AttributeError):
        v.value = 1
    with pytest.raises(TypeError):
        v.fields["A"] = 0
    w = v._replace(B=0)
    assert w.value == 0x10 and w == TOY.decode(0x10) and hash(w) == hash(TOY.decode(0x10))
    assert repr(v) == "TOY(0x13: A=0b0001 B=0b11)"


def test_variants_select_and_encode():
    lo = Register("V", [("K", 7, 7), ("X", 6, 0)], width=8, label="K=0", when={"K": {0}})
    hi = Register("V", [("K", 7, 7), ("Y", 6, 4), ("Z", 3, 0)], width=8, label="K=1",
                  when={"K": {1}})
    var = Variants("V", [lo, hi], key="K")
    assert var.decode(0x05).layout is lo and var.decode(0x95).layout is hi
    assert var.encode(K=1, Y=1, Z=5) == 0x95
    assert var.encode(Y=1) == 0x10  # only hi has Y; the value selects lo: kept as asked
    assert var.decode(0x10).layout is lo
    with pytest.raises(FormatError, match="no single V layout"):
        var.encode(X=1, Y=1)


def test_inconsistent_variants_fail_at_import():
    a = Register("V", [("K", 7, 7), ("X", 6, 0)], width=8, when={"K": {0}})
    b = Register("V", [("K", 0, 0), ("X", 7, 1)], width=8, when={"K": {1}})
    with pytest.raises(TypeError, match="differs"):
        Variants("V", [a, b])


def test_from_dict_accepts_to_dict_and_hex_strings():
    assert TOY.from_dict(TOY.decode(0x13).to_dict()) == 0x13
    assert TOY.from_dict({"A": "0x1", "B": 3}) == 0x13
    assert TOY.from_dict({"value": 0x12}) == 0x12
    with pytest.raises(FormatError):
        TOY.from_dict({"A": "one"})


def test_values_pickle():
    import pickle

    from rasflow.formats import arm

    for v in (arm.decode_esr(0xBE000C11), arm.decode_register("errmisc0", 1 << 47, fr=0x4000),
              arm.decode_register("spsr", 0x3C5)):
        w = pickle.loads(pickle.dumps(v))
        assert w == v and w.layout is v.layout and w.fields == v.fields
        assert type(w) is type(v)
