"""Whole output formats: the kernel's CPER lines, libcper's JSON."""
