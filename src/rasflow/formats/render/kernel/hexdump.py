"""lib/hexdump.c print_hex_dump(), DUMP_PREFIX_OFFSET, as CPER printing uses it."""

from __future__ import annotations


def _printable(b: int) -> str:
    return chr(b) if 0x20 <= b < 0x7F else "."


def hex_dump_lines(pfx: str, data: bytes, *, rowsize: int = 16, groupsize: int = 4, ascii: bool = False) -> list[str]:
    """``print_hex_dump(pfx, "", DUMP_PREFIX_OFFSET, rowsize, groupsize, data, len, ascii)``."""
    out = []
    for i in range(0, len(data), rowsize):
        line = data[i : i + rowsize]
        gs = groupsize
        if len(line) % gs:
            gs = 1
        if gs == 4:
            hexpart = " ".join(f"{int.from_bytes(line[j : j + 4], 'little'):08x}" for j in range(0, len(line), 4))
        elif gs == 8:
            hexpart = " ".join(f"{int.from_bytes(line[j : j + 8], 'little'):016x}" for j in range(0, len(line), 8))
        elif gs == 2:
            hexpart = " ".join(f"{int.from_bytes(line[j : j + 2], 'little'):04x}" for j in range(0, len(line), 2))
        else:
            hexpart = " ".join(f"{b:02x}" for b in line)
        if ascii:
            column = rowsize * 2 + rowsize // gs + 1
            hexpart = hexpart.ljust(column) + "".join(_printable(b) for b in line)
        out.append(f"{pfx}{i:08x}: {hexpart}")
    return out
