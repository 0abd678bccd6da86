"""rasflow: follow an Arm64 firmware-first RAS error from the silicon to the process it hurts."""

__version__ = "0.1.0"


def run(scenario, policy: str | None = None, seed: int | None = None):
    """Run a scenario (a :class:`rasflow.scenario.Scenario`, a file path or a built-in name)
    under its own policies or ``policy``: its :class:`~rasflow.scenario.outcome.Outcome`
    (``to_dict()``, ``verdicts``, ``passed``, ``events``)."""
    from .scenario.runner import run as _run

    return _run(scenario, policy=policy, seed=seed).outcome
