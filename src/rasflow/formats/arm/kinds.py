"""One entry point for the command line: a register kind name and a value -> decoded value."""

from __future__ import annotations

from ..errors import FormatError
from .esr import ESR_ELx
from .ras import ERR_ADDR, ERR_CTLR, ERR_FR, ERR_STATUS, decode_errmisc0
from .register import RegValue
from .sysreg import (
    DISR_EL1,
    HCR_EL2,
    ISR_EL1,
    MIDR_EL1,
    MPIDR_EL1,
    SCR_EL3,
    VDISR_EL2,
    VSESR_EL2,
    SCTLR_ELx,
    SPSR_ELx,
)

KINDS = {
    "esr": ESR_ELx,
    "hcr": HCR_EL2,
    "scr": SCR_EL3,
    "disr": DISR_EL1,
    "vdisr": VDISR_EL2,
    "vsesr": VSESR_EL2,
    "errstatus": ERR_STATUS,
    "erraddr": ERR_ADDR,
    "errfr": ERR_FR,
    "errctlr": ERR_CTLR,
    "errmisc0": None,  # needs ERR<n>FR to pick its counter form
    "midr": MIDR_EL1,
    "mpidr": MPIDR_EL1,
    "spsr": SPSR_ELx,
    "sctlr": SCTLR_ELx,
    "isr": ISR_EL1,
}
"""Kind name -> register declaration (``errmisc0`` is resolved with ``fr``)."""


def decode_register(kind: str, value: int, *, fr: int | None = None) -> RegValue:
    """Decode ``value`` as the register ``kind`` names (see :data:`KINDS`).

    ``fr`` (ERR<n>FR) chooses the ERR<n>MISC0 counter form; without it the 16-bit form.
    Raises FormatError for an unknown kind or a value wider than the register.
    """
    key = kind.lower() if isinstance(kind, str) else kind
    if key not in KINDS:
        raise FormatError(f"unknown register kind {kind!r}; known kinds: {', '.join(KINDS)}",
                          path="kind")
    if key == "errmisc0":
        return decode_errmisc0(value, fr)
    return KINDS[key].decode(value)
