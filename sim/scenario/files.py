"""Tell a policy file from a scenario file and load either."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.policy.loader import read_yaml
from sim.policy.models import load_policy


def load_any(path: Path) -> tuple[str, Any]:
    """Load ``path`` as the kind its fields say: a policy has programs, a scenario segments."""
    data, _ = read_yaml(Path(path), InputError)
    if "segments" in data:  # checked first: a scenario may also have a 'programs' section
        from sim.scenario.schema import load_scenario

        return "scenario", load_scenario(path)
    if "programs" in data:
        return "policy", load_policy(path)
    raise InputError.one(path, "", "is neither a policy (it has no 'programs') nor a scenario (it has no 'segments')", 1)
