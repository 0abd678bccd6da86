"""The errno values the RAS path returns (include/uapi/asm-generic/errno-base.h, errno.h; arm64 uses these)."""

from __future__ import annotations

ENOENT = 2
EINTR = 4
EIO = 5
ENXIO = 6
ENOEXEC = 8
EBADF = 9
EFAULT = 14
EEXIST = 17
EBUSY = 16
EINVAL = 22
ENOTTY = 25
ENOSYS = 38
EINPROGRESS = 115
EHWPOISON = 133

ERRNO_NAMES = {
    ENOENT: "ENOENT",
    EINTR: "EINTR",
    EBADF: "EBADF",
    ENOTTY: "ENOTTY",
    EIO: "EIO",
    ENXIO: "ENXIO",
    ENOEXEC: "ENOEXEC",
    EFAULT: "EFAULT",
    EEXIST: "EEXIST",
    EBUSY: "EBUSY",
    EINVAL: "EINVAL",
    ENOSYS: "ENOSYS",
    EINPROGRESS: "EINPROGRESS",
    EHWPOISON: "EHWPOISON",
}


def errno_name(ret: int) -> str:
    """``-22`` -> ``-EINVAL``; 0 -> ``0``; unknown values stay numeric."""
    if ret >= 0:
        return str(ret)
    name = ERRNO_NAMES.get(-ret)
    return f"-{name}" if name else str(ret)
