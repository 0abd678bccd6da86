"""cper.c cper_print_fw_err(), with the length check of upstream 55cc6fe5716f ("EFI/CPER:
don't dump the entire memory region", taken by the stable trees, 6.12.y among them, in
March 2026): trailing data that would start past the section is reported, not dumped."""

from __future__ import annotations

from ...cper import firmware as f
from ...layout import Guid
from .hexdump import hex_dump_lines

READS_PAST_SECTION = True  # a revision-2 record shorter than 32 bytes: its GUID reads on

# offsetof(struct cper_sec_fw_err_rec_ref, ...) where the trailing data starts, by revision
_RECORD_IDENTIFIER = 8
_RECORD_IDENTIFIER_GUID = 16


def cper_print_fw_err(pfx: str, fw_err: f.CperSecFwErrRecRef, gdata, *, after: bytes = b"") -> list[str]:
    out = [
        f"{pfx}Firmware Error Record Type: {f.FW_ERR_REC_TYPE.get(fw_err.record_type, 'unknown')}",
        f"{pfx}Revision: {fw_err.revision}",
    ]
    data = fw_err.encode()
    if fw_err.revision == 0:
        out.append(f"{pfx}Record Identifier: {fw_err.record_identifier:08x}")
    elif fw_err.revision == 2:
        # A section shorter than 32 bytes: the kernel reads on into what follows it.
        guid = (data + after)[_RECORD_IDENTIFIER_GUID:f.CPER_FW_ERR_REC_REF_SIZE].ljust(16, b"\0")
        out.append(f"{pfx}Record Identifier: {Guid(guid)}")
    # Trailing data beyond the fields the revision defines.
    if fw_err.revision == 0:
        offset = _RECORD_IDENTIFIER_GUID
    elif fw_err.revision == 1:
        offset = _RECORD_IDENTIFIER
    else:
        offset = f.CPER_FW_ERR_REC_REF_SIZE
    length = gdata.error_data_length if gdata is not None else len(data)
    if offset > length:
        out.append(f"{pfx}error section length is too small: offset={offset}, length={length}")
        return out
    out += hex_dump_lines(pfx, data[offset:length], ascii=True)
    return out
