"""The kernel model: one codebase for the host (EL2, VHE) and the guests (EL1).

    from rasflow.kernel import Kernel
    kernel = Kernel(machine, el=2, name="host", tables=platform.tables())
"""

from .core import DEFAULT_SYSCTL, Kernel
from .task import SigInfo, Task

__all__ = ["DEFAULT_SYSCTL", "Kernel", "SigInfo", "Task"]
