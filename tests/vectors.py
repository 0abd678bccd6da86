"""Where the external vectors live: ../shared/vectors when it is there (all of them), else
tests/vectors, the subset kept in the repository (see tests/vectors/README.md), so a fresh
clone runs every kind of vector test.

Every pattern asked for is remembered with how many files it found: tests/conftest.py fails
the run when ../shared/vectors is there and a pattern found nothing (a renamed folder must
not turn a test into an empty parametrization).
"""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
LOCAL = Path(__file__).resolve().parent / "vectors"
VECTORS = SHARED if SHARED.is_dir() else LOCAL
ASKED: dict[str, int] = {}  # pattern -> files found


def vector_files(pattern: str) -> list[Path]:
    """Vector files matching ``pattern`` under the vectors folder in use."""
    found = sorted(VECTORS.glob(pattern))
    ASKED[pattern] = len(found)
    return found


def vector_bytes(relpath: str) -> bytes:
    """One vector file's bytes; the calling test is skipped, with the reason, when the
    folder in use does not have it."""
    import pytest

    path = VECTORS / relpath
    if not path.is_file():
        pytest.skip(f"{relpath} is not in {VECTORS} (../shared/vectors has every vector)")
    return path.read_bytes()
