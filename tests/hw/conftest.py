"""Fixtures for the machine tests (helpers live in hw/hwhelpers.py)."""

from hw.hwhelpers import make_machine  # noqa: F401 - a fixture
