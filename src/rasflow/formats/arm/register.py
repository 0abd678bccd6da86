"""Declare a register once as ``(NAME, msb, lsb[, names])`` fields; derive the codec.

A :class:`Register` is one flat layout: its fields, named as the Arm ARM spells them,
cover the register without overlapping (checked at import, like dpkt's bit-field
asserts). Gaps become ``RES0_<msb>_<lsb>`` fields so that every bit is kept: encode
never fixes anything and ``encode(**decode(v).fields) == v`` for every ``v``.

A :class:`Variants` is a register whose layout depends on its own bits (ESR_ELx by EC,
DISR_EL1 by IDS, SPSR by M[4]). Each layout says ``when`` it applies (field -> allowed
values); the first layout that matches decodes the value.

Decoding gives a :class:`~.value.RegValue` (value.py). It never raises for odd contents:
reserved encodings and non-zero RES0 bits are listed in ``.problems``. Only a value wider than the register, or an encode argument
that does not fit its field, raises :class:`FormatError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..errors import FormatError, as_int
from .value import Closed, FrozenFields, RegValue, Table, fmt_field, name_of

__all__ = ["Closed", "Field", "FrozenFields", "RegValue", "Register", "Table", "Variants",
           "fmt_field", "name_of"]

_RESERVED = ("RES0", "RES1")
_DECLARED: dict[tuple[str, str, str], Register | Variants] = {}


def _declared(kind: str, name: str, label: str) -> Register | Variants:
    """Unpickle a declaration: declarations are module-level singletons, found by name."""
    return _DECLARED[kind, name, label]


class Field:
    """One compiled field: position, width and optional value names."""

    __slots__ = ("name", "msb", "lsb", "width", "max", "names", "kind")

    def __init__(self, name: str, msb: int, lsb: int, names: Mapping[int, str] | None = None):
        if msb < lsb or lsb < 0:
            raise TypeError(f"field {name}: bad range [{msb}:{lsb}]")
        self.kind = name if name in _RESERVED else ""
        if self.kind:
            name = f"{name}_{msb}" if msb == lsb else f"{name}_{msb}_{lsb}"
        self.name, self.msb, self.lsb = name, msb, lsb
        self.width = msb - lsb + 1
        self.max = (1 << self.width) - 1
        self.names = names

    @property
    def closed(self) -> bool:
        return bool(getattr(self.names, "closed", False))

    def get(self, value: int) -> int:
        return (value >> self.lsb) & self.max

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.msb}, {self.lsb})"


class Register:
    """One flat layout of a register. See the module docstring."""

    def __init__(
        self,
        name: str,
        fields: Iterable[tuple],
        *,
        width: int = 64,
        label: str = "",
        when: Mapping[str, Iterable[int]] | None = None,
        groups: Sequence[tuple[str, int, int]] = (),
        check: Callable[[Mapping[str, int]], list[str]] | None = None,
        derive: Callable[[Mapping[str, int]], dict[str, Any]] | None = None,
        value_type: type[RegValue] | None = None,
    ):
        self.name, self.width, self.label = name, width, label or name
        self.fields = _compile(name, fields, width, groups)
        self.by_name = {f.name: f for f in self.fields}
        if len(self.by_name) != len(self.fields):
            raise TypeError(f"{name}: duplicate field names")
        self.when = {k: frozenset(v) for k, v in (when or {}).items()}
        for k in self.when:
            if k not in self.by_name:
                raise TypeError(f"{name}: 'when' names unknown field {k}")
        self.groups = tuple(groups)
        for g, msb, lsb in self.groups:
            for f in self.fields:
                inside = lsb <= f.lsb and f.msb <= msb
                outside = f.msb < lsb or f.lsb > msb
                if not (inside or outside):
                    raise TypeError(f"{name}: field {f.name} straddles group {g}")
        self.check, self.derive = check, derive
        self.value_type = value_type or RegValue
        self.layouts = (self,)
        _DECLARED["R", name, self.label] = self

    def __reduce__(self):
        return (_declared, ("R", self.name, self.label))

    def matches(self, value: int) -> bool:
        """True when this layout's ``when`` conditions hold for ``value``."""
        by = self.by_name
        return all(by[k].get(value) in allowed for k, allowed in self.when.items())

    def check_width(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FormatError(f"{self.name} must be an integer, got {type(value).__name__}",
                              path=self.name)
        if value < 0 or value >> self.width:
            raise FormatError(f"{value:#x} does not fit in {self.name} ({self.width} bits)",
                              path=self.name)

    def decode(self, value: int) -> RegValue:
        self.check_width(value)
        return self._decode(value, self)

    def _decode(self, value: int, family: Register | Variants) -> RegValue:
        fields = {f.name: (value >> f.lsb) & f.max for f in self.fields}
        return family.value_type(family, self, value, fields, self.problems(fields))

    def problems(self, fields: Mapping[str, int]) -> list[str]:
        """Reserved encodings, RES0/RES1 violations and cross-field rules, as text."""
        out = []
        for f in self.fields:
            v = fields[f.name]
            if f.kind == "RES0" and v:
                out.append(f"RES0 bit [{f.msb}] is 1, not 0" if f.width == 1 else
                           f"RES0 bits [{f.msb}:{f.lsb}] are {fmt_field(v, f.width)}, not zero")
            elif f.kind == "RES1" and v != f.max:
                out.append(f"RES1 bit [{f.msb}] is 0, not 1" if f.width == 1 else
                           f"RES1 bits [{f.msb}:{f.lsb}] are {fmt_field(v, f.width)}, not all ones")
            elif f.closed and v not in f.names:  # type: ignore[operator]
                out.append(f"{f.name} {fmt_field(v, f.width)} is reserved")
        if self.check is not None:
            out.extend(self.check(fields))
        return out

    def encode(self, **fields: int) -> int:
        """Put each named field at its place; missing fields are zero. Nothing is fixed up."""
        value = 0
        by_name = self.by_name
        for key, v in fields.items():
            f = by_name.get(key)
            if f is None:
                raise FormatError(f"{self.label} has no field {key!r}", path=f"{self.name}.{key}")
            if type(v) is int and 0 <= v <= f.max:  # the common case; _place checks the rest
                value |= v << f.lsb
            else:
                value |= _place(self.name, f, v)
        return value

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(self.by_name)

    def from_dict(self, d: Mapping[str, Any]) -> int:
        """Inverse of ``to_dict``: field values (top level or nested in groups) -> int."""
        return self.encode(**_fields_from_dict(self, d))

    def strategy(self):
        """Hypothesis strategy of field dicts that select this layout."""
        from hypothesis import strategies as st

        parts = {}
        for f in self.fields:
            allowed = self.when.get(f.name)
            if allowed is not None:
                parts[f.name] = st.sampled_from(sorted(allowed))
            else:
                parts[f.name] = st.integers(0, f.max)
        return st.fixed_dictionaries(parts)

    def __repr__(self) -> str:
        return f"Register({self.label!r}, {len(self.fields)} fields)"


class Variants:
    """A register whose layout is chosen by its own bits: first matching layout wins."""

    def __init__(self, name: str, layouts: Sequence[Register], *, key: str | None = None,
                 value_type: type[RegValue] | None = None):
        self.name, self.layouts = name, tuple(layouts)
        self.width = self.layouts[0].width
        self.value_type = value_type or RegValue
        if any(lay.width != self.width for lay in self.layouts):
            raise TypeError(f"{name}: layouts differ in width")
        _check_consistent(name, self.layouts)
        self.key = key
        self._index: dict[int, tuple[Register, ...]] = {}
        if key is not None:
            kmax = self.layouts[0].by_name[key].max
            for k in range(kmax + 1):
                self._index[k] = tuple(
                    lay for lay in self.layouts if k in lay.when.get(key, (k,))
                )
        self._names = frozenset().union(*(lay.field_names for lay in self.layouts))
        _DECLARED["V", name, ""] = self

    def __reduce__(self):
        return (_declared, ("V", self.name, ""))

    @property
    def field_names(self) -> frozenset[str]:
        return self._names

    def select(self, value: int) -> Register | None:
        """The layout that decodes ``value`` (None only for an incomplete declaration)."""
        cands = self._index[self.layouts[0].by_name[self.key].get(value)] if self.key else self.layouts
        for lay in cands:
            if lay.matches(value):
                return lay
        return None

    def decode(self, value: int) -> RegValue:
        self.layouts[0].check_width(value)
        lay = self.select(value)
        if lay is None:  # declarations are exhaustive; tests check it
            raise FormatError(f"no {self.name} layout matches {value:#x}", path=self.name)
        return lay._decode(value, self)

    def encode(self, **fields: int) -> int:
        """Encode with the layout the result selects; if none does, the first that has
        every given field (a malformed value, kept as asked)."""
        for key in fields:
            if key not in self._names:
                raise FormatError(f"{self.name} has no field {key!r}", path=f"{self.name}.{key}")
        cands = self.layouts
        if self.key is not None and isinstance(fields.get(self.key), int):
            cands = self._index.get(fields[self.key], cands)
        first = None
        for lay in cands:
            if not fields.keys() <= lay.by_name.keys():
                continue
            value = lay.encode(**fields)
            if lay.matches(value):
                return value
            if first is None:
                first = value
        if first is None:
            raise FormatError(f"no single {self.name} layout has all of the fields "
                              f"{', '.join(fields)}", path=self.name)
        return first

    def from_dict(self, d: Mapping[str, Any]) -> int:
        return self.encode(**_fields_from_dict(self, d))

    def __repr__(self) -> str:
        return f"Variants({self.name!r}, {len(self.layouts)} layouts)"


def _compile(name: str, specs: Iterable[tuple], width: int,
             groups: Sequence[tuple[str, int, int]] = ()) -> tuple[Field, ...]:
    fields = []
    for spec in specs:
        if not 3 <= len(spec) <= 4:
            raise TypeError(f"{name}: a field is (NAME, msb, lsb[, names]), got {spec!r}")
        fields.append(Field(*spec))
    fields.sort(key=lambda f: -f.msb)
    cuts = sorted({b for _, msb, lsb in groups for b in (msb + 1, lsb)}, reverse=True)
    out: list[Field] = []
    top = width - 1
    for f in fields:
        if f.msb > top:
            where = "beyond the register" if f.msb >= width else f"overlapping {out[-1].name}"
            raise TypeError(f"{name}: field {f.name} [{f.msb}:{f.lsb}] is {where}")
        out.extend(_gap(top, f.msb + 1, cuts))
        out.append(f)
        top = f.lsb - 1
    out.extend(_gap(top, 0, cuts))
    return tuple(out)


def _gap(top: int, bottom: int, cuts: list[int]) -> list[Field]:
    """RES0 fields for bits [top:bottom], split where a group starts or ends."""
    out = []
    for c in cuts:
        if bottom < c <= top:
            out.append(Field("RES0", top, c))
            top = c - 1
    if top >= bottom:
        out.append(Field("RES0", top, bottom))
    return out


def _place(reg: str, f: Field, v: Any) -> int:
    if not isinstance(v, int):
        raise FormatError(f"{f.name} must be an integer, got {type(v).__name__}",
                          path=f"{reg}.{f.name}")
    if not 0 <= v <= f.max:
        raise FormatError(f"{f.name}={v:#x} does not fit in {f.width} bits [{f.msb}:{f.lsb}]",
                          path=f"{reg}.{f.name}")
    return int(v) << f.lsb


def _check_consistent(name: str, layouts: Sequence[Register]) -> None:
    """A field name contained in two layouts, one's names a subset of the other's, must
    sit at the same bits: that is what makes ``encode(**decode(v).fields) == v``."""
    for a in layouts:
        for b in layouts:
            if a is b or not a.by_name.keys() <= b.by_name.keys():
                continue
            for n, f in a.by_name.items():
                g = b.by_name[n]
                if (f.msb, f.lsb) != (g.msb, g.lsb):
                    raise TypeError(f"{name}: {n} differs between {a.label} and {b.label}")


def _fields_from_dict(reg, d: Mapping[str, Any]) -> dict[str, int]:
    if not isinstance(d, Mapping):
        raise FormatError(f"expected an object for {reg.name}", path=reg.name)
    names = reg.field_names
    out: dict[str, int] = {}
    for k, v in d.items():
        if k in names and not isinstance(v, Mapping):
            out[k] = _int(reg.name, k, v)
        elif isinstance(v, Mapping):
            sub = {kk: _int(reg.name, f"{k}.{kk}", vv) for kk, vv in v.items() if kk in names}
            if not sub and k in names and "value" in v:  # a group that is one field
                sub = {k: _int(reg.name, f"{k}.value", v["value"])}
            out.update(sub)
    if not out and "value" in d:
        return reg.decode(_int(reg.name, "value", d["value"])).fields
    return out


def _int(reg: str, path: str, v: Any) -> int:
    return as_int(v, f"{reg}.{path}", text=True)
