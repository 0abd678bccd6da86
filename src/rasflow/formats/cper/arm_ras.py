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
overlap, raise FormatError. The auxiliary data block's codecs are in arm_ras_aux.py
(their names are re-exported here).
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

from ..arm.kinds import decode_register
from ..arm.value import RegValue
from ..errors import FormatError
from ..layout import Bytes, Names, layout, u8, u16, u32, u64
from .arm_ras_aux import (  # noqa: F401  (the auxiliary data names are re-exported)
    _CTX,
    _HDR,
    _REG,
    ARM_RAS_AUX_SCOPE_LOCAL,
    ARM_RAS_AUX_VERSION,
    ARM_RAS_CONTEXT_FLAGS,
    EFI_ARM_RAS_KVP_UUID_MPAM_PARTID,
    CperArmRasAuxContext,
    CperArmRasAuxContextHeader,
    CperArmRasAuxData,
    CperArmRasAuxHeader,
    CperArmRasAuxKeyValue,
    CperArmRasAuxRegister,
    _encode,
    _from_dict,
    _nbytes,
    _overrun,
    _to_dict,
)
from .guids import CPER_SEC_ARM_RAS

ARM_RAS_NODE_REVISION = 1
ARM_RAS_MAX_SYNDROMES = 896  # Arm IHI0100: at most 896 error records per node

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


_DESC = CperArmRasErrorRecordDescriptor.SIZE


class CperSecArmRas(NamedTuple):
    """The section in wire order: ``node``, bytes up to the descriptors (``gap``), the
    ``syndromes``, bytes up to the auxiliary data (``aux_gap``), the ``aux`` block (None
    when ``auxiliary_data_offset`` is 0; then all after the descriptors is ``tail``), the rest."""

    node: CperArmRasNode
    gap: bytes = b""
    syndromes: tuple[CperArmRasErrorRecordDescriptor, ...] = ()
    aux_gap: bytes = b""
    aux: CperArmRasAuxData | None = None
    tail: bytes = b""

    GUID = CPER_SEC_ARM_RAS
    SIZE = CperArmRasNode.SIZE
    _KINDS = {"node": CperArmRasNode, "gap": bytes, "syndromes": [CperArmRasErrorRecordDescriptor],
              "aux_gap": bytes, "aux": CperArmRasAuxData, "tail": bytes}
    encode, nbytes, to_dict, from_dict = _encode, property(_nbytes), _to_dict, classmethod(_from_dict)

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecArmRas:
        mv = memoryview(buf)
        end = len(mv) if length is None else off + length
        if end > len(mv):
            raise FormatError(f"truncated: length says {length} bytes, have {len(mv) - off}", offset=off,
                              need=end - len(mv))
        node = CperArmRasNode.decode(mv[:end], off)
        syn, n = off + node.error_syndrome_array_offset, node.error_syndrome_array_num_entries
        if syn < off + cls.SIZE:
            raise _overrun(f"error_syndrome_array_offset {node.error_syndrome_array_offset} points into the "
                           f"{cls.SIZE}-byte node header", "error_syndrome_array_offset", off + 12)
        syn_end = syn + _DESC * n
        if syn_end > end:
            field, at = ("error_syndrome_array_offset", 12) if syn > end else ("error_syndrome_array_num_entries", 8)
            raise _overrun(f"{n} error record descriptors at offset {node.error_syndrome_array_offset} need "
                           f"{_DESC * n} bytes, the section has {end - syn} there", field, off + at, syn_end - end)
        syndromes = tuple(CperArmRasErrorRecordDescriptor.decode(mv, p) for p in range(syn, syn_end, _DESC))
        gap = bytes(mv[off + cls.SIZE : syn])
        if not node.auxiliary_data_offset:
            return cls(node, gap, syndromes, b"", None, bytes(mv[syn_end:end]))
        aux_at = off + node.auxiliary_data_offset
        if aux_at < syn_end:
            raise _overrun(f"auxiliary_data_offset {node.auxiliary_data_offset} overlaps the error record "
                           f"descriptors (they end at {syn_end - off})", "auxiliary_data_offset", off + 14)
        if aux_at + _HDR > end:
            raise _overrun(f"auxiliary_data_offset {node.auxiliary_data_offset} leaves no room for the "
                           f"{_HDR}-byte auxiliary data header", "auxiliary_data_offset", off + 14, aux_at + _HDR - end)
        try:
            aux = CperArmRasAuxData.decode(mv, aux_at, end)
        except FormatError as e:
            raise e.within("aux") from None
        aux_end = aux_at + aux.header.auxiliary_data_size
        return cls(node, gap, syndromes, bytes(mv[syn_end:aux_at]), aux, bytes(mv[aux_end:end]))

    def check(self) -> list[str]:
        """Counts, offsets and sizes against the parts here, and the revisions libcper insists on."""
        nd, out = self.node, []
        syn_at = self.SIZE + len(self.gap)
        aux_at = syn_at + _DESC * len(self.syndromes) + len(self.aux_gap)
        if nd.revision != ARM_RAS_NODE_REVISION:
            out.append(f"revision {nd.revision} is not {ARM_RAS_NODE_REVISION}")
        if nd.error_syndrome_array_num_entries != len(self.syndromes):
            out.append(f"error_syndrome_array_num_entries {nd.error_syndrome_array_num_entries} "
                       f"but {len(self.syndromes)} descriptors")
        if len(self.syndromes) > ARM_RAS_MAX_SYNDROMES:
            out.append(f"more than {ARM_RAS_MAX_SYNDROMES} error record descriptors")
        if nd.error_syndrome_array_offset != syn_at:
            out.append(f"error_syndrome_array_offset {nd.error_syndrome_array_offset} but the descriptors "
                       f"start at {syn_at}")
        if self.aux is None:
            if nd.auxiliary_data_offset:
                out.append(f"auxiliary_data_offset {nd.auxiliary_data_offset} but no auxiliary data")
            return out
        if nd.auxiliary_data_offset != aux_at:
            out.append(f"auxiliary_data_offset {nd.auxiliary_data_offset} but the auxiliary data starts at {aux_at}")
        return out + [f"aux: {p}" for p in self.aux.check()]

    @classmethod
    def strategy(cls, max_syndromes: int = 3, max_contexts: int = 3, max_pairs: int = 3):
        """Hypothesis: consistent sections (counts, offsets and sizes match the parts)."""
        from hypothesis import strategies as st

        def context(header, regs, tail):
            length = _CTX + _REG * len(regs) + len(tail)
            return CperArmRasAuxContext(header._replace(length=length, register_array_entry_count=len(regs)),
                                        tuple(regs), tail)

        def aux(header, ctxs, gap, kvps, tail):
            if not kvps:
                gap, tail = gap + tail, b""
            kv_off = _HDR + sum(c.nbytes for c in ctxs) + len(gap) if kvps else header.key_value_pair_array_offset
            h = header._replace(address_space_array_entry_count=len(ctxs), key_value_pair_array_entry_count=len(kvps),
                                key_value_pair_array_offset=kv_off)
            block = CperArmRasAuxData(h, tuple(ctxs), gap, tuple(kvps), tail)
            return block._replace(header=h._replace(auxiliary_data_size=block.nbytes))

        def build(node, gap, syndromes, aux_gap, block, tail):
            if block is None:
                aux_gap, tail = b"", aux_gap + tail
            syn_off = cls.SIZE + len(gap)
            aux_off = syn_off + _DESC * len(syndromes) + len(aux_gap) if block is not None else 0
            node = node._replace(error_syndrome_array_offset=syn_off, auxiliary_data_offset=aux_off,
                                 error_syndrome_array_num_entries=len(syndromes))
            return cls(node, gap, tuple(syndromes), aux_gap, block, tail)

        raw = st.binary(max_size=8)
        contexts = st.builds(context, CperArmRasAuxContextHeader.strategy(),
                             st.lists(CperArmRasAuxRegister.strategy(), max_size=3), raw)
        auxes = st.builds(aux, CperArmRasAuxHeader.strategy(), st.lists(contexts, max_size=max_contexts), raw,
                          st.lists(CperArmRasAuxKeyValue.strategy(), max_size=max_pairs), raw)
        return st.builds(build, CperArmRasNode.strategy(), raw,
                         st.lists(CperArmRasErrorRecordDescriptor.strategy(), max_size=max_syndromes), raw,
                         st.none() | auxes, raw)

