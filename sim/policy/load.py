"""Loading policy files: YAML in, a validated :class:`~sim.policy.models.Policy` out.

A policy is found by path or by id in ``policies/``; its YAML is read with the line of
every field (:mod:`sim.policy.loader`), dotted-path overrides are applied to the raw data
(:mod:`sim.policy.overrides`), and the result is validated once: every problem, including
names that point nowhere, comes back together with its file, line and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.errors import PolicyError, Problem
from sim.policy.loader import Lines, line_of, problems_from, read_yaml
from sim.policy.models import Policy
from sim.policy.overrides import set_path


def load_policy(path: str | Path, overrides: dict[str, Any] | None = None) -> Policy:
    """Load and validate a policy file, optionally with dotted-path overrides applied first.

    Raises :class:`PolicyError` listing every problem with file, line and field.

    Examples
    --------
    >>> p = load_policy("policies/binjiang.yaml", {"pools.compute_vouchers.budget": "5000万"})
    >>> p.pools["compute_vouchers"].budget
    50000000
    """
    path = Path(path)
    data, lines = read_yaml(path, PolicyError)
    if "segments" in data and "id" not in data:
        raise PolicyError.one(path, "", "is a scenario, not a policy file: it has segments; give a policy file or id, "
                              "e.g. policies/binjiang.yaml or binjiang (`sim run` takes the scenario)", 1)
    for dotted_path, value in (overrides or {}).items():
        set_path(data, dotted_path, value, PolicyError, str(path))
    return validate_policy(data, str(path), lines)


def validate_policy(data: dict, file: str, lines: Lines | None = None) -> Policy:
    lines = lines or {}
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(problems_from(exc, file, lines)) from None
    problems = reference_problems(policy, file, lines)
    stem = Path(file).stem
    if stem != policy.id and Path(file).parent.name == POLICY_DIR.name:  # ids find files in policies/
        problems.append(Problem(file, "id", f"is {policy.id!r} but the file is named {stem}.yaml; they must match", lines.get(("id",))))
    if problems:
        raise PolicyError(problems)
    return policy


def reference_problems(policy: Policy, file: str, lines: Lines) -> list[Problem]:
    """Names that point nowhere: a program's pool or other reading, programs named by rules, caps and uplifts."""
    out = []
    for pid, prog in policy.programs.items():
        if prog.pool is not None and prog.pool not in policy.pools:
            loc = ("programs", pid, "pool")
            out.append(Problem(file, ".".join(loc), f"names pool {prog.pool!r}, which is not among pools ({', '.join(p for p, v in policy.pools.items() if not v.implicit)})", lines.get(loc)))
    for pid, prog in policy.programs.items():
        if prog.instead_of is not None and (prog.instead_of not in policy.programs or prog.instead_of == pid):
            loc = ("programs", pid, "instead_of")
            out.append(Problem(file, ".".join(loc), f"names {prog.instead_of!r}, which is not another program of the policy", lines.get(loc)))
    for where, rules in (("stacking", policy.stacking), ("firm_caps", policy.firm_caps), ("uplifts", policy.uplifts)):
        for i, rule in enumerate(rules):
            for j, name in enumerate(rule.programs):
                if name not in policy.programs:
                    loc = (where, i, "programs", j)
                    out.append(Problem(file, f"{where}.{i}.programs", f"names unknown program {name!r}; programs are {', '.join(policy.programs)}", line_of(lines, loc)))
    return out



POLICY_DIR = Path("policies")


def resolve_policy(name_or_path: str | Path, base: Path | None = None) -> Path:
    """A policy given as a file path, or as an id looked up in ``policies/``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if base is not None and not path.is_absolute() and not path.exists():
            path = base / path
        return path
    for folder in filter(None, [base and base / POLICY_DIR, base, POLICY_DIR]):
        candidate = Path(folder) / f"{name_or_path}.yaml"
        if candidate.exists():
            return candidate
    known = ", ".join(sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))) or "none found in ./policies"
    raise PolicyError.one(str(name_or_path), "", f"no such policy file or id; known ids: {known}")
