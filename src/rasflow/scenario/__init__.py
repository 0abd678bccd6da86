"""Scenario files: what to build, what to break and what should happen.

``load_scenario("guest-ue-ar")`` or ``load_scenario("my.toml")`` gives a validated
:class:`Scenario`; every problem in a file is a :class:`ScenarioError` whose message is one
line, ``FILE:LINE: FIELD: message``.
"""

from .model import (
    Expect,
    Fault,
    HostSettings,
    Machine,
    Process,
    Scenario,
    ScenarioError,
    Target,
    Vm,
)
from .spec import builtin_names, builtin_path, load_scenario, parse_scenario, scenario_from_dict

__all__ = [
    "Expect", "Fault", "HostSettings", "Machine", "Process", "Scenario", "ScenarioError",
    "Target", "Vm", "builtin_names", "builtin_path", "load_scenario", "parse_scenario",
    "scenario_from_dict",
]
