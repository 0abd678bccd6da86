"""drivers/acpi/apei: HEST discovery and GHES."""

from .estatus import EstatusCache, Ratelimit, ghes_severity
from .ghes import Ghes, GhesDriver
from .hest import hest_init

__all__ = ["EstatusCache", "Ghes", "GhesDriver", "Ratelimit", "ghes_severity", "hest_init"]
