"""Arm RAS node section (GUID bf32d4d5-b427-4025-8495-8a9e5d4030e4, Arm DEN0085 tables 20-26).

One RAS node's error records as firmware captured them. Wire order, as libcper
(sections/cper-section-arm-ras.c, generator/sections/gen-section-arm-ras.c) lays it out:

- the 80-byte node header (table 20);
- at ``error_syndrome_array_offset``, ``error_syndrome_array_num_entries`` 72-byte
  error record descriptors (table 21): the record index, the RAS extension revision
  and the ERR<n>FR/CTLR/STATUS/ADDR/MISC0-3 values;
- at ``auxiliary_data_offset`` (0: none) the auxiliary data (tables 22-26): a 16-byte
  header, ``address_space_array_entry_count`` contexts (16-byte header, then
  ``register_array_entry_count`` address/value pairs; ``length`` covers both) and, at
  ``key_value_pair_array_offset`` from the block's start, GUID-keyed 64-bit values.

Linux has no struct for it; field names are libcper's EFI_ARM_RAS_* members in kernel
style. Bytes between and after the parts are kept (``gap``, ``aux_gap``, ``tail``), so
``encode`` is exact; an offset or count that overruns the section, or parts that
overlap, raise FormatError.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..arm.kinds import decode_register
from ..arm.value import RegValue
from ..errors import FormatError
from ..layout import Bytes, Flags, Guid, GuidField, Names, layout, u8, u16, u32, u64
from .guids import CPER_SEC_ARM_RAS

ARM_RAS_NODE_REVISION = 1
ARM_RAS_AUX_VERSION = 1
ARM_RAS_AUX_SCOPE_LOCAL = 0x1  # context flags bit 0: the address space identifier is local
ARM_RAS_MAX_SYNDROMES = 896  # Arm IHI0100: at most 896 error records per node
EFI_ARM_RAS_KVP_UUID_MPAM_PARTID = Guid("ebb45182-fb03-4bf9-9aca-8613709fd789")

# AEST node types (the header's legacy component_type)
ARM_RAS_COMPONENT_TYPE = {
    0: "processor", 1: "memory", 2: "SMMU", 3: "vendor-defined", 4: "GIC",
    5: "PCIe root complex", 6: "proxy",
}
ARM_RAS_IP_INSTANCE_FORMAT = {
    0: "PE (MPIDR_EL1)", 1: "system physical address", 2: "local address identifier",
    3: "SoC-specific IP identifier",
}
ARM_RAS_IP_TYPE_FORMAT = {0: "PE (MIDR_EL1, REVIDR_EL1, AIDR_EL1)", 1: "SMMU IIDR", 2: "GIC IIDR", 3: "PIDR"}
ARM_RAS_CONTEXT_FLAGS = {0: "local_address_space"}

_REGISTER_FIELDS = {"errfr": "err_fr", "errctlr": "err_ctlr", "errstatus": "err_status",
                    "erraddr": "err_addr", "errmisc0": "err_misc0"}


@layout
class CperArmRasNode:
    """EFI_ARM_RAS_NODE, 80 bytes. ``ip_instance``/``ip_type`` are unions read per format."""

    revision: u32
    component_type: Annotated[u8, Names(ARM_RAS_COMPONENT_TYPE)]
    reserved0: Bytes[3]
    error_syndrome_array_num_entries: u32
    error_syndrome_array_offset: u16
    auxiliary_data_offset: u16
    ip_instance_format: Annotated[u8, Names(ARM_RAS_IP_INSTANCE_FORMAT)]
    ip_type_format: Annotated[u8, Names(ARM_RAS_IP_TYPE_FORMAT)]
    reserved1: Bytes[6]
    ip_instance: Bytes[16]
    ip_type: Bytes[24]
    user_data: Bytes[16]

    @property
    def mpidr_el1(self) -> int:
        """ip_instance[63:0]: MPIDR_EL1 (format 0), the address (1) or the local address space (2)."""
        return int.from_bytes(self.ip_instance[:8], "little")

    @property
    def base_address(self) -> int:
        """ip_instance[127:64]: the base address of a local address identifier (format 2)."""
        return int.from_bytes(self.ip_instance[8:], "little")

    @property
    def pidr(self) -> dict[str, int]:
        """ip_type's first 8 bytes as libcper reads them: PIDR3, 2, 1, 0, 7, 6, 5, 4."""
        return {f"pidr{n}": self.ip_type[i] for i, n in enumerate((3, 2, 1, 0, 7, 6, 5, 4))}


@layout
class CperArmRasErrorRecordDescriptor:
    """EFI_ARM_RAS_ERROR_RECORD_DESCRIPTOR, 72 bytes: one error record's registers."""

    error_record_index: u32
    ras_extension_revision: u8
    reserved: Bytes[3]
    err_fr: u64
    err_ctlr: u64
    err_status: u64
    err_addr: u64
    err_misc0: u64
    err_misc1: u64
    err_misc2: u64
    err_misc3: u64

    @property
    def revision_field(self) -> int:
        """ERRDEVARCH.REVISION as recorded (bits 7:4); 0 with ARCHVER 0 means MISC2/3 are not valid."""
        return self.ras_extension_revision >> 4

    @property
    def arch_version(self) -> int:
        """ERRDEVARCH.ARCHVER as recorded (bits 3:0)."""
        return self.ras_extension_revision & 0xF

    def decode_register(self, kind: str) -> RegValue:
        """``arm.decode_register`` of ``errfr``, ``errctlr``, ``errstatus``, ``erraddr`` or
        ``errmisc0`` (in the counter form this record's ERR<n>FR selects)."""
        field = _REGISTER_FIELDS.get(kind)
        if field is None:
            raise FormatError(f"no register {kind!r}; one of {', '.join(_REGISTER_FIELDS)}", path="kind")
        return decode_register(kind, getattr(self, field), fr=self.err_fr)

    def registers(self) -> dict[str, RegValue]:
        """All five decoded: ERR<n>FR, CTLR, STATUS, ADDR and MISC0."""
        return {kind: self.decode_register(kind) for kind in _REGISTER_FIELDS}


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


_DESC = CperArmRasErrorRecordDescriptor.SIZE
_REG = CperArmRasAuxRegister.SIZE
_KVP = CperArmRasAuxKeyValue.SIZE
_HDR = CperArmRasAuxHeader.SIZE
_CTX = CperArmRasAuxContextHeader.SIZE


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _overrun(msg: str, path: str, offset: int, need: int | None = None) -> FormatError:
    return FormatError(msg, path=path, offset=offset, need=need)


class _Parts:
    """Shared methods of the variable-size parts: a leading layout, then, in wire order, tuples
    of layouts, optional sub-parts and raw bytes. ``_KINDS`` names each field's codec."""

    __slots__ = ()
    _KINDS: dict[str, Any]

    def encode(self) -> bytes:
        return b"".join(v if isinstance(v, bytes) else b"".join(x.encode() for x in v) if isinstance(v, tuple)
                        else v.encode() for v in self if v is not None)

    @property
    def nbytes(self) -> int:
        return sum(len(v) if isinstance(v, bytes) else sum(x.nbytes for x in v) if isinstance(v, tuple)
                   else v.nbytes for v in self if v is not None)

    def to_dict(self) -> dict[str, Any]:
        d = self[0].to_dict()
        for name, v in zip(self._fields[1:], self[1:], strict=True):
            if v is not None:
                d[name] = v.hex() if isinstance(v, bytes) else [x.to_dict() for x in v] if isinstance(v, tuple) \
                    else v.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = ""):
        if not isinstance(d, Mapping):
            raise FormatError(f"expected an object for {cls.__name__}", path=path)
        names = cls._fields[1:]
        values = [cls._KINDS[cls._fields[0]].from_dict({k: v for k, v in d.items() if k not in names}, path=path)]
        for name in names:
            kind, v, p = cls._KINDS.get(name), d.get(name), _join(path, name)
            if kind is bytes:
                try:
                    values.append(bytes.fromhex(v if v is not None else ""))
                except (TypeError, ValueError):
                    raise FormatError("not a hex string", path=p) from None
            elif isinstance(kind, tuple):
                if not isinstance(v if v is not None else [], list):
                    raise FormatError("expected a list", path=p)
                values.append(tuple(kind[0].from_dict(x, path=f"{p}[{i}]") for i, x in enumerate(v or ())))
            else:
                values.append(None if v is None else kind.from_dict(v, path=p))
        return cls(*values)


class CperArmRasAuxContext(_Parts, NamedTuple):
    """One address-space context: header, its registers, and bytes ``length`` adds after them."""

    header: CperArmRasAuxContextHeader
    registers: tuple[CperArmRasAuxRegister, ...] = ()
    tail: bytes = b""


class CperArmRasAuxData(_Parts, NamedTuple):
    """The auxiliary data block: header, contexts, bytes up to the key-value pairs, the pairs, the rest.

    Without key-value pairs everything after the contexts is ``gap``."""

    header: CperArmRasAuxHeader
    contexts: tuple[CperArmRasAuxContext, ...] = ()
    gap: bytes = b""
    key_value_pairs: tuple[CperArmRasAuxKeyValue, ...] = ()
    tail: bytes = b""
def _aux_check(aux: CperArmRasAuxData) -> list[str]:
    h, out = aux.header, []
    if h.version != ARM_RAS_AUX_VERSION:
        out.append(f"auxiliary data version {h.version} is not {ARM_RAS_AUX_VERSION}")
    if h.auxiliary_data_size != aux.nbytes:
        out.append(f"auxiliary_data_size {h.auxiliary_data_size} but the block has {aux.nbytes} bytes")
    if h.address_space_array_entry_count != len(aux.contexts):
        out.append(f"address_space_array_entry_count {h.address_space_array_entry_count} "
                   f"but {len(aux.contexts)} contexts")
    if h.key_value_pair_array_entry_count != len(aux.key_value_pairs):
        out.append(f"key_value_pair_array_entry_count {h.key_value_pair_array_entry_count} "
                   f"but {len(aux.key_value_pairs)} pairs")
    kv_at = _HDR + sum(c.nbytes for c in aux.contexts) + len(aux.gap)
    if aux.key_value_pairs and h.key_value_pair_array_offset != kv_at:
        out.append(f"key_value_pair_array_offset {h.key_value_pair_array_offset} but the pairs start at {kv_at}")
    for i, c in enumerate(aux.contexts):
        if c.header.register_array_entry_count != len(c.registers):
            out.append(f"contexts[{i}]: register_array_entry_count {c.header.register_array_entry_count} "
                       f"but {len(c.registers)} registers")
        if c.header.length != c.nbytes:
            out.append(f"contexts[{i}]: length {c.header.length} but {c.nbytes} bytes")
    return out
