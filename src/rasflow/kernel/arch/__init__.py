"""arch/arm64: exception entry, do_sea, do_serror (arch/arm64/kernel/entry-common.c,
arch/arm64/mm/fault.c, arch/arm64/kernel/traps.c)."""

from .entry import ArchEntry

__all__ = ["ArchEntry"]
