"""The @layout machinery every codec is built on."""

from __future__ import annotations

from typing import Annotated

import pytest

from rasflow.formats import FormatError
from rasflow.formats.layout import Bytes, Guid, GuidField, Names, Tail, layout, u8, u16, u32


@layout
class Base:
    kind: Annotated[u8, Names({1: "one"})]
    length: u16
    guid: GuidField


@layout
class Extended(Base):
    extra: u32
    rest: Tail


def test_extension_keeps_the_base_first_and_is_a_base():
    assert Extended._fields == ("kind", "length", "guid", "extra", "rest")
    assert (Base.SIZE, Extended.SIZE) == (19, 23)
    e = Extended(kind=1, extra=7, rest=b"xy")
    assert isinstance(e, Base) and e._replace(extra=8).extra == 8
    assert Extended.decode(e.encode(), 0, e.nbytes) == e
    assert e.to_dict()["kind_name"] == "one"


def test_truncation_names_the_field_and_offset():
    with pytest.raises(FormatError) as err:
        Base.decode(b"\x01\x02\x00" + b"\0" * 5, 0)
    assert (err.value.path, err.value.offset, err.value.need) == ("guid", 3, 11)


def test_from_dict_rejects_unknown_and_out_of_range():
    with pytest.raises(FormatError, match="unknown field") as err:
        Base.from_dict({"kind": 1, "bogus": 2})
    assert err.value.path == "bogus"
    with pytest.raises(FormatError, match="does not fit in 16 bits"):
        Base.from_dict({"length": 70000})
    with pytest.raises(FormatError, match="not a GUID"):
        Base.from_dict({"guid": "nope"})


def test_guid_text_and_wire_forms():
    g = Guid("a5bc1114-6f64-4ede-b863-3e83ed7c83b1")
    assert g[:4] == bytes.fromhex("1411bca5") and str(g) == "a5bc1114-6f64-4ede-b863-3e83ed7c83b1"


def test_repr_leaves_out_defaults_and_reserved():
    @layout
    class R:
        a: u8
        reserved: Bytes[2]
        b: u8

    assert repr(R(b=3, reserved=b"zz")) == "R(b=3)"
