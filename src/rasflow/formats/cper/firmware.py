"""Firmware Error Record Reference section (UEFI N.2.10): struct cper_sec_fw_err_rec_ref.

The structure is 32 bytes, but cper.c accepts any section of at least 16 bytes
("The minimal FW Error Record contains 16 bytes") and reads the fields by
revision: 0 has record_identifier only, 1 neither identifier, 2 the GUID. So
the GUID is optional here: a section shorter than 32 bytes decodes with
``record_identifier_guid`` None and its bytes past the first 16 in ``tail``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Guid, Names, layout, u8, u64
from .guids import CPER_SEC_FW_ERR_REC_REF

# cper.c fw_err_rec_type_strs[]
FW_ERR_REC_TYPE = {
    0: "IPF SAL Error Record",
    1: "SOC Firmware Error Record Type1 (Legacy CrashLog Support)",
    2: "SOC Firmware Error Record Type2",
}

CPER_FW_ERR_REC_REF_MIN = 16  # offsetof(struct cper_sec_fw_err_rec_ref, record_identifier_guid)
CPER_FW_ERR_REC_REF_SIZE = 32  # sizeof(struct cper_sec_fw_err_rec_ref)

_FIELDS = ("record_type", "revision", "reserved", "record_identifier", "record_identifier_guid", "tail")


@layout
class _Head:
    record_type: u8
    revision: u8
    reserved: Bytes[6]
    record_identifier: u64


class CperSecFwErrRecRef(NamedTuple):
    """struct cper_sec_fw_err_rec_ref; ``record_identifier_guid`` is None below 32 bytes."""

    record_type: int = 0
    revision: int = 0
    reserved: bytes = b"\0" * 6
    record_identifier: int = 0
    record_identifier_guid: Guid | None = Guid()
    tail: bytes = b""

    GUID = CPER_SEC_FW_ERR_REC_REF
    SIZE = CPER_FW_ERR_REC_REF_MIN  # the kernel's minimum; decode_section checks it

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecFwErrRecRef:
        end = len(buf) if length is None else off + length
        if end > len(buf):
            raise FormatError(f"truncated: length says {length} bytes, have {len(buf) - off}",
                              offset=off, need=end - len(buf))
        if end - off < CPER_FW_ERR_REC_REF_MIN:
            raise FormatError(f"a firmware error record reference needs at least 16 bytes, have {end - off}",
                              offset=off, need=CPER_FW_ERR_REC_REF_MIN - (end - off))
        head = _Head.STRUCT.unpack_from(buf, off)
        pos = off + CPER_FW_ERR_REC_REF_MIN
        guid = None
        if end - off >= CPER_FW_ERR_REC_REF_SIZE:
            guid = Guid(bytes(buf[pos : pos + 16]))
            pos += 16
        return cls(*head, guid, bytes(buf[pos:end]))

    def encode(self) -> bytes:
        guid = b"" if self.record_identifier_guid is None else bytes(self.record_identifier_guid)
        return _Head.pack(self.record_type, self.revision, self.reserved, self.record_identifier) + guid + self.tail

    @property
    def nbytes(self) -> int:
        return CPER_FW_ERR_REC_REF_MIN + (16 if self.record_identifier_guid is not None else 0) + len(self.tail)

    @property
    def record_type_name(self) -> str:
        return Names(FW_ERR_REC_TYPE)(self.record_type)

    def to_dict(self) -> dict[str, Any]:
        d = _Head(self.record_type, self.revision, self.reserved, self.record_identifier).to_dict()
        d["record_type_name"] = self.record_type_name
        d["record_identifier_guid"] = None if self.record_identifier_guid is None else str(self.record_identifier_guid)
        d["tail"] = self.tail.hex()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperSecFwErrRecRef:
        if not isinstance(d, Mapping):
            raise FormatError("expected an object for CperSecFwErrRecRef", path=path)
        for key in d:
            if key not in _FIELDS and key != "record_type_name":
                raise FormatError(f"unknown field {key!r} in CperSecFwErrRecRef", path=_join(path, key))
        head = _Head.from_dict({k: v for k, v in d.items() if k in _Head._fields}, path=path)
        guid = d.get("record_identifier_guid", "00000000-0000-0000-0000-000000000000")
        if guid is not None:
            guid = Guid.parse(guid, path=_join(path, "record_identifier_guid"))
        tail = _hex(d.get("tail", ""), _join(path, "tail"))
        return cls(*head, guid, tail)

    def check(self) -> list[str]:
        out = []
        if self.record_identifier_guid is None and len(self.tail) >= 16:
            out.append("record_identifier_guid is absent but the tail holds 16 bytes or more")
        return out

    def __repr__(self) -> str:
        parts = [f"record_type={self.record_type}", f"revision={self.revision}"]
        if self.record_identifier:
            parts.append(f"record_identifier={self.record_identifier:#x}")
        parts.append(f"record_identifier_guid={self.record_identifier_guid}")
        if self.tail:
            parts.append(f"tail={self.tail.hex()}")
        return f"CperSecFwErrRecRef({', '.join(parts)})"


def _hex(v: Any, path: str) -> bytes:
    if not isinstance(v, str):
        raise FormatError(f"expected a hex string, got {type(v).__name__}", path=path)
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise FormatError(f"not a hex string: {v[:40]!r}", path=path) from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
