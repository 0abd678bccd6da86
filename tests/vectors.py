"""Where the external vectors live: read in place, skip when absent."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"


def vector_files(pattern: str) -> list[Path]:
    """Vector files under ../shared/vectors matching ``pattern`` (empty when the folder is absent)."""
    if not VECTORS.is_dir():
        return []
    return sorted(VECTORS.glob(pattern))


def vector_bytes(relpath: str) -> bytes:
    """One vector file's bytes; the calling test is skipped when ../shared/vectors is absent."""
    import pytest

    path = VECTORS / relpath
    if not path.is_file():
        pytest.skip(f"../shared/vectors/{relpath} is absent")
    return path.read_bytes()
