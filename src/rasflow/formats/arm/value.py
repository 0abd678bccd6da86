"""Decoded register values: immutable, with fields, problems and a nested dict form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .register import Register


class Table(dict):
    """Value -> name for an enumerated field; ``closed`` makes every other value reserved."""

    closed = False

    def name(self, value: int) -> str:
        return self.get(value, f"unknown ({value:#x})")


class Closed(Table):
    """A :class:`Table` that lists every allocated value (others are a problem)."""

    closed = True


def name_of(table: Mapping[int, str] | None, value: int) -> str:
    """Look ``value`` up, falling back to ``unknown (0x..)``; never a KeyError."""
    if table is None:
        return f"unknown ({value:#x})"
    return table.get(value, f"unknown ({value:#x})")


def fmt_field(value: int, width: int) -> str:
    """A field value the way the Arm ARM writes it: 0b... up to 4 bits, else hex."""
    if width <= 4:
        return f"0b{value:0{width}b}"
    return f"0x{value:0{(width + 3) // 4}x}"


class FrozenFields(dict):
    """A read-only dict of field values (still a dict, so json.dumps takes it)."""

    __slots__ = ()

    def _ro(self, *args, **kwargs):
        raise TypeError("decoded fields are read-only; use _replace()")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _ro

    def __reduce__(self):
        return (FrozenFields, (dict(self),))


class RegValue:
    """An immutable decoded register: ``.value``, ``.fields``, ``.problems``, ``.to_dict()``."""

    __slots__ = ("register", "layout", "value", "_fields", "_problems")

    def __init__(self, register, layout: Register, value: int, fields: dict[str, int],
                 problems: list[str]):
        set_ = object.__setattr__
        set_(self, "register", register)
        set_(self, "layout", layout)
        set_(self, "value", value)
        set_(self, "_fields", FrozenFields(fields))
        set_(self, "_problems", tuple(problems))

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable; use _replace()")

    def __reduce__(self):  # pickles as (register, value); campaign workers ship these
        return (_redecode, (self.register, self.value))

    @property
    def fields(self) -> dict[str, int]:
        """NAME -> int for every field of the layout, reserved ones included."""
        return self._fields

    @property
    def problems(self) -> list[str]:
        return list(self._problems)

    def __getitem__(self, name: str) -> int:
        return self._fields[name]

    def get(self, name: str, default: int | None = None) -> int | None:
        return self._fields.get(name, default)

    def name(self, field: str) -> str:
        """The name of a field's value from its table (``unknown (0x..)`` otherwise)."""
        return name_of(self.layout.by_name[field].names, self._fields[field])

    def _replace(self, **changes: int) -> RegValue:
        """A new value with some fields changed (encoded, then decoded again)."""
        return self.register.decode(self.register.encode(**{**self._fields, **changes}))

    def to_dict(self) -> dict[str, Any]:
        """Nested dict: fields by Arm ARM name, ``NAME_name`` for enumerations, groups nested."""
        lay = self.layout
        out: dict[str, Any] = {"register": self.register.name, "value": self.value}
        if lay.label != self.register.name:
            out["layout"] = lay.label
        groups = {g: {"value": (self.value >> lsb) & ((1 << (msb - lsb + 1)) - 1)}
                  for g, msb, lsb in lay.groups}
        for f in lay.fields:
            target = out
            for g, msb, lsb in lay.groups:
                if lsb <= f.lsb and f.msb <= msb:
                    target = groups[g]
                    break
            if f.name in groups and target is groups[f.name]:
                continue  # a field that is the whole group is the group's value
            v = self._fields[f.name]
            target[f.name] = v
            if f.names is not None:
                target[f.name + "_name"] = name_of(f.names, v)
        for g, _, _ in sorted(lay.groups, key=lambda g: -g[1]):
            out[g] = groups[g]
        if lay.derive is not None:
            out.update(lay.derive(self._fields))
        out["problems"] = list(self._problems)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegValue):
            return NotImplemented
        return self.register is other.register and self.value == other.value

    def __hash__(self) -> int:
        return hash((self.register.name, self.value))

    def __repr__(self) -> str:
        parts = [
            f"{f.name}={fmt_field(self._fields[f.name], f.width)}"
            for f in self.layout.fields
            if not f.kind and self._fields[f.name]
        ]
        return f"{self.register.name}({self.value:#x}: {' '.join(parts)})"


def _redecode(register, value: int) -> RegValue:
    return register.decode(value)
