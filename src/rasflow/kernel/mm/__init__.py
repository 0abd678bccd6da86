"""Pages and memory_failure (mm/page_alloc.c, mm/memory-failure.c), minimal."""

from .memory_failure import MemoryFailure
from .page import PAGE_STATES, Page, Pages

__all__ = ["PAGE_STATES", "MemoryFailure", "Page", "Pages"]
