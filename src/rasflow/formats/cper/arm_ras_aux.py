"""The Arm RAS node section's auxiliary data (Arm DEN0085 tables 22-26), at the node's
``auxiliary_data_offset``: a 16-byte header, ``address_space_array_entry_count``
contexts (16-byte header, then ``register_array_entry_count`` address/value pairs;
``length`` covers both) and, at ``key_value_pair_array_offset`` from the block's start,
GUID-keyed 64-bit values. Field names are libcper's EFI_ARM_RAS_AUX_* members in kernel
style.

Also the codec pieces arm_ras.py's ``CperSecArmRas`` shares with the parts here
(``_encode``, ``_nbytes``, ``_to_dict``, ``_from_dict`` driven by each class's ``_KINDS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Flags, Guid, GuidField, layout, u8, u16, u32, u64

ARM_RAS_AUX_VERSION = 1
ARM_RAS_AUX_SCOPE_LOCAL = 0x1  # context flags bit 0: the address space identifier is local
EFI_ARM_RAS_KVP_UUID_MPAM_PARTID = Guid("ebb45182-fb03-4bf9-9aca-8613709fd789")
ARM_RAS_CONTEXT_FLAGS = {0: "local_address_space"}


@layout
class CperArmRasAuxHeader:
    """EFI_ARM_RAS_AUX_DATA_HEADER, 16 bytes; sizes and offsets count from its first byte."""

    version: u8
    reserved0: u8
    address_space_array_entry_count: u16
    auxiliary_data_size: u32
    key_value_pair_array_offset: u32
    key_value_pair_array_entry_count: u16
    reserved1: u16


@layout
class CperArmRasAuxContextHeader:
    """EFI_ARM_RAS_AUX_CONTEXT_HEADER, 16 bytes; ``length`` includes the registers."""

    length: u32
    flags: Annotated[u8, Flags(ARM_RAS_CONTEXT_FLAGS)]
    reserved0: u8
    register_array_entry_count: u16
    address_space_identifier: u16
    reserved1: Bytes[6]


@layout
class CperArmRasAuxRegister:
    """EFI_ARM_RAS_AUX_MM_REG_ENTRY: a memory-mapped register's address and value."""

    address: u64
    value: u64


@layout
class CperArmRasAuxKeyValue:
    """EFI_ARM_RAS_AUX_KEY_VALUE_PAIR: a GUID key and a 64-bit value (MPAM PARTID in 15:0)."""

    key: GuidField
    value: u64


_REG = CperArmRasAuxRegister.SIZE
_KVP = CperArmRasAuxKeyValue.SIZE
_HDR = CperArmRasAuxHeader.SIZE
_CTX = CperArmRasAuxContextHeader.SIZE


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _overrun(msg: str, path: str, offset: int, need: int | None = None) -> FormatError:
    return FormatError(msg, path=path, offset=offset, need=need)


# Shared by the variable-size parts below: a leading layout, then, in wire order, tuples of
# layouts or parts, an optional part and raw bytes; each class's _KINDS names their codecs
# (a one-item list for a tuple of that codec).
def _pieces(self):
    for name, v in zip(self._fields, self, strict=True):
        kind = self._KINDS[name]
        if isinstance(kind, list):
            yield from v
        elif v is not None:
            yield v


def _encode(self) -> bytes:
    return b"".join(v if isinstance(v, bytes) else v.encode() for v in _pieces(self))


def _nbytes(self) -> int:
    return sum(len(v) if isinstance(v, bytes) else v.nbytes for v in _pieces(self))


def _to_dict(self) -> dict[str, Any]:
    d = self[0].to_dict()
    for name, v in zip(self._fields[1:], self[1:], strict=True):
        kind = self._KINDS[name]
        if kind is bytes:
            d[name] = v.hex()
        elif isinstance(kind, list):
            d[name] = [x.to_dict() for x in v]
        elif v is not None:
            d[name] = v.to_dict()
    return d


def _from_dict(cls, d: Mapping[str, Any], *, path: str = ""):
    if not isinstance(d, Mapping):
        raise FormatError(f"expected an object for {cls.__name__}", path=path)
    names = cls._fields[1:]
    values = [cls._KINDS[cls._fields[0]].from_dict({k: v for k, v in d.items() if k not in names}, path=path)]
    for name in names:
        kind, v, p = cls._KINDS[name], d.get(name), _join(path, name)
        if kind is bytes:
            try:
                values.append(bytes.fromhex("" if v is None else v))
            except (TypeError, ValueError):
                raise FormatError("not a hex string", path=p) from None
        elif isinstance(kind, list):
            if not isinstance([] if v is None else v, list):
                raise FormatError("expected a list", path=p)
            values.append(tuple(kind[0].from_dict(x, path=f"{p}[{i}]") for i, x in enumerate(v or ())))
        else:
            values.append(None if v is None else kind.from_dict(v, path=p))
    return cls(*values)


class CperArmRasAuxContext(NamedTuple):
    """One address-space context: header, its registers, and bytes ``length`` adds after them."""

    header: CperArmRasAuxContextHeader
    registers: tuple[CperArmRasAuxRegister, ...] = ()
    tail: bytes = b""

    _KINDS = {"header": CperArmRasAuxContextHeader, "registers": [CperArmRasAuxRegister], "tail": bytes}
    encode, nbytes, to_dict, from_dict = _encode, property(_nbytes), _to_dict, classmethod(_from_dict)


class CperArmRasAuxData(NamedTuple):
    """The auxiliary data block: header, contexts, bytes up to the key-value pairs, the pairs,
    the rest up to ``auxiliary_data_size``. Without pairs, all after the contexts is ``gap``."""

    header: CperArmRasAuxHeader
    contexts: tuple[CperArmRasAuxContext, ...] = ()
    gap: bytes = b""
    key_value_pairs: tuple[CperArmRasAuxKeyValue, ...] = ()
    tail: bytes = b""

    _KINDS = {"header": CperArmRasAuxHeader, "contexts": [CperArmRasAuxContext], "gap": bytes,
              "key_value_pairs": [CperArmRasAuxKeyValue], "tail": bytes}
    encode, nbytes, to_dict, from_dict = _encode, property(_nbytes), _to_dict, classmethod(_from_dict)

    @classmethod
    def decode(cls, mv: memoryview, base: int, end: int) -> CperArmRasAuxData:
        """The block at absolute ``base``; ``end`` bounds the section. Paths are block-relative."""
        h = CperArmRasAuxHeader.decode(mv[:end], base)
        size = h.auxiliary_data_size
        if size < _HDR or base + size > end:
            raise _overrun(f"auxiliary_data_size {size} does not fit: the block has {end - base} bytes "
                           f"and its header {_HDR}", "auxiliary_data_size", base + 4,
                           base + size - end if size >= _HDR else None)
        stop, pos, contexts = base + size, base + _HDR, []
        for i in range(h.address_space_array_entry_count):
            if pos + _CTX > stop:
                raise _overrun(f"address_space_array_entry_count {h.address_space_array_entry_count}: context {i} "
                               f"starts {pos - base} bytes in, past auxiliary_data_size {size}",
                               "address_space_array_entry_count", base + 2, pos + _CTX - stop)
            ch = CperArmRasAuxContextHeader.decode(mv, pos)
            regs_end = pos + _CTX + _REG * ch.register_array_entry_count
            if regs_end > pos + ch.length:
                raise _overrun(f"register_array_entry_count {ch.register_array_entry_count} needs "
                               f"{regs_end - pos} bytes, length says {ch.length}",
                               f"contexts[{i}].register_array_entry_count", pos + 6)
            if pos + ch.length > stop:
                raise _overrun(f"length {ch.length} runs past auxiliary_data_size {size}", f"contexts[{i}].length",
                               pos, pos + ch.length - stop)
            regs = tuple(CperArmRasAuxRegister.decode(mv, p) for p in range(pos + _CTX, regs_end, _REG))
            contexts.append(CperArmRasAuxContext(ch, regs, bytes(mv[regs_end : pos + ch.length])))
            pos += ch.length
        count = h.key_value_pair_array_entry_count
        if not count:
            return cls(h, tuple(contexts), bytes(mv[pos:stop]))
        kv = base + h.key_value_pair_array_offset
        if kv < pos:
            raise _overrun(f"key_value_pair_array_offset {h.key_value_pair_array_offset} overlaps the contexts "
                           f"(they end {pos - base} bytes in)", "key_value_pair_array_offset", base + 8)
        kv_end = kv + _KVP * count
        if kv_end > stop:
            field, at = ("key_value_pair_array_offset", 8) if kv > stop else ("key_value_pair_array_entry_count", 12)
            raise _overrun(f"{count} key-value pairs at {h.key_value_pair_array_offset} run past "
                           f"auxiliary_data_size {size}", field, base + at, kv_end - stop)
        kvps = tuple(CperArmRasAuxKeyValue.decode(mv, p) for p in range(kv, kv_end, _KVP))
        return cls(h, tuple(contexts), bytes(mv[pos:kv]), kvps, bytes(mv[kv_end:stop]))

    def check(self) -> list[str]:
        h, out = self.header, []
        if h.version != ARM_RAS_AUX_VERSION:
            out.append(f"auxiliary data version {h.version} is not {ARM_RAS_AUX_VERSION}")
        counts = (("auxiliary_data_size", h.auxiliary_data_size, self.nbytes, "bytes"),
                  ("address_space_array_entry_count", h.address_space_array_entry_count, len(self.contexts),
                   "contexts"),
                  ("key_value_pair_array_entry_count", h.key_value_pair_array_entry_count,
                   len(self.key_value_pairs), "key-value pairs"))
        out += [f"{name} {said} but {have} {what}" for name, said, have, what in counts if said != have]
        kv_at = _HDR + sum(c.nbytes for c in self.contexts) + len(self.gap)
        if self.key_value_pairs and h.key_value_pair_array_offset != kv_at:
            out.append(f"key_value_pair_array_offset {h.key_value_pair_array_offset} but the pairs start at {kv_at}")
        for i, c in enumerate(self.contexts):
            ch = c.header
            if ch.register_array_entry_count != len(c.registers):
                out.append(f"contexts[{i}]: register_array_entry_count {ch.register_array_entry_count} "
                           f"but {len(c.registers)} registers")
            if ch.length != c.nbytes:
                out.append(f"contexts[{i}]: length {ch.length} but {c.nbytes} bytes")
        return out
