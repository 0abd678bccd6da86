"""Fail the run when ../shared/vectors is there but a vector pattern found nothing: a test
over an empty parametrization tests nothing, and a renamed folder must not hide that."""

from __future__ import annotations

import pytest

import vectors


def pytest_collection_finish(session: pytest.Session) -> None:
    if not vectors.SHARED.is_dir():
        return
    empty = sorted(p for p, n in vectors.ASKED.items() if n == 0)
    if empty:
        raise pytest.UsageError(f"../shared/vectors is present but these vector patterns found no file: "
                                f"{', '.join(empty)}")
