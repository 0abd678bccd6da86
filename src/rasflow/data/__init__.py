"""Files rasflow ships: the sample record `rasflow decode --sample` reads."""

from __future__ import annotations

from importlib import resources


def sample() -> bytes:
    """The sample CPER record (a memory and an ARM processor section, an SEA)."""
    return resources.files(__name__).joinpath("sample.cper").read_bytes()
