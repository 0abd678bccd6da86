"""The machine: PEs (ELs, PSTATE, vectors, ESB, virtual SError), sparse physical memory
with poison, RAS error nodes and fault injection. Software (firmware, kernels) meets here
only through architected interfaces: vectors and system registers, memory, error record
registers, SMC/HVC and interrupts.
"""

from .machine import Machine
from .memory import GRANULE, PAGE_SIZE, DramAddress, DramGeometry, PhysicalMemory, Region
from .pe import PE, ExceptionEntry, PState
from .ras import ErrorNode

__all__ = ["GRANULE", "PAGE_SIZE", "PE", "DramAddress", "DramGeometry", "ErrorNode",
           "ExceptionEntry", "Machine", "PState", "PhysicalMemory", "Region"]
