"""The vectors kept in the repository are the shared ones, byte for byte."""

from __future__ import annotations

import pytest

from vectors import LOCAL, SHARED


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/vectors is absent: nothing to compare with")
def test_every_kept_vector_is_the_shared_one():
    kept = [p for p in LOCAL.rglob("*") if p.is_file() and p.name not in ("README.md", "SHARED-README.md")]
    assert len(kept) > 700
    for p in kept:
        original = SHARED / p.relative_to(LOCAL)
        assert original.is_file() and original.read_bytes() == p.read_bytes(), p
    assert (LOCAL / "SHARED-README.md").read_bytes() == (SHARED / "README.md").read_bytes()


def test_the_subset_is_small():
    assert sum(p.stat().st_size for p in LOCAL.rglob("*") if p.is_file()) < 4 << 20
