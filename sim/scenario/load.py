"""Loading scenario files: YAML in, a :class:`~sim.scenario.schema.Scenario` out, policies included.

The scenario is validated, its overrides are applied to the raw data of each policy it
names (so a bad override is reported at the override's line, in the scenario), the
policies are validated, and then what only makes sense with both in hand is checked:
program and pool names, blank dates, attributes a program needs.  Every problem comes
back at once with its file, line and field.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.errors import InputError, PolicyError, Problem, ScenarioError
from sim.policy.attributes import VOCABULARY
from sim.policy.load import load_policy, resolve_policy, validate_policy
from sim.policy.loader import Lines, line_of, problems_from, read_yaml
from sim.policy.models import Policy, implicit_pools
from sim.policy.overrides import apply_path, set_path
from sim.scenario.schema import Scenario, ScenarioFile


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, validate and resolve a scenario and its policies.

    Raises :class:`ScenarioError` (or :class:`PolicyError` for a bad policy) listing every
    problem with file, line and field.
    """
    path = Path(path)
    raw, lines = read_yaml(path, ScenarioError)
    for key, value in (overrides or {}).items():
        apply_path(raw, key, value, str(path))
    return build_scenario(raw, str(path), lines, path.resolve().parent)


def build_scenario(raw: dict, file: str, lines: Lines, folder: Path) -> Scenario:
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, file, lines)) from None
    policies, policy_data = _load_policies(spec, file, lines, folder)
    problems = _cross_checks(spec, policies, file, lines)
    if problems:
        raise ScenarioError(problems)
    digest = inputs_digest(raw, policy_data)
    return Scenario(spec=spec, policies=policies, path=file, raw=raw, sha256=digest)


def inputs_digest(raw: dict, policy_data: list[dict]) -> str:
    """A fingerprint of everything a run depends on: the scenario and its policies, as resolved."""
    text = json.dumps([raw, policy_data], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _load_policies(spec: ScenarioFile, file: str, lines: Lines, folder: Path) -> tuple[dict[str, Policy], list[dict]]:
    by_policy: dict[str, dict[str, Any]] = {}
    for key, override in spec.overrides.items():
        policy_id, _, rest = key.partition(".")
        if policy_id not in [Path(p).stem for p in spec.policies] or not rest:
            raise ScenarioError.one(file, f"overrides.{key}", f"must start with one of the scenario's policies ({', '.join(spec.policies)}) and name a field, e.g. binjiang.pools.compute_vouchers.budget", line_of(lines, ("overrides", key)))
        by_policy.setdefault(policy_id, {})[rest] = override.value
        if rest.endswith(".rationing"):
            by_policy[policy_id][rest + "_basis"] = "scenario"
    out: dict[str, Policy] = {}
    datas: list[dict] = []
    for i, name in enumerate(spec.policies):
        try:
            ppath = resolve_policy(name, base=folder.parent if folder.name == "scenarios" else folder)
            data, plines = read_yaml(ppath, PolicyError)
            data = implicit_pools(data)
            for key, value in by_policy.get(Path(name).stem, {}).items():
                set_path(data, key, value, ScenarioError, f"{file}: overrides.{Path(name).stem}")
            policy = validate_policy(data, str(ppath), plines)
            datas.append(data)
        except PolicyError as exc:
            if any(p.file == name for p in exc.problems):
                raise ScenarioError.one(file, f"policies.{i}", exc.problems[0].message, line_of(lines, ("policies", i))) from None
            raise _blame_overrides(exc, Path(name).stem, by_policy.get(Path(name).stem, {}), file, lines) from None
        out[policy.id] = policy
    return out, datas


def _blame_overrides(exc: PolicyError, policy_id: str, overrides: dict[str, Any], file: str, lines: Lines) -> InputError:
    """A policy problem caused by a scenario's override is reported at the override's line."""
    problems = []
    for p in exc.problems:
        key = next((k for k in overrides if p.field == k or p.field.startswith(k + ".") or k.startswith(p.field + ".")), None)
        if key is None:
            problems.append(p)
        else:
            loc = ("overrides", f"{policy_id}.{key.removesuffix('_basis')}")
            problems.append(Problem(file, f"overrides.{policy_id}.{key}", f"{p.message} (in policy {policy_id})", line_of(lines, loc)))
    return ScenarioError(problems) if len(problems) != len([p for p in problems if p in exc.problems]) else exc


def _cross_checks(spec: ScenarioFile, policies: dict[str, Policy], file: str, lines: Lines) -> list[Problem]:
    """What only makes sense with the policies in hand: names, dates and needed attributes."""
    problems: list[Problem] = []

    def bad(loc: tuple, message: str) -> None:
        problems.append(Problem(file, ".".join(map(str, loc)), message, line_of(lines, loc)))

    programs = {f"{pid}.{prog}": (policies[pid], prog) for pid in policies for prog in policies[pid].programs}
    pools = {f"{pid}.{pool}" for pid in policies for pool in policies[pid].pools}
    for pid, policy in policies.items():
        w = policy.effective
        if w.start is None:
            bad(("policies",), f"policy {pid} has no start date in its text ({w.note or w.quote}); set it with overrides: {{{pid}.effective.start: {{value: YYYY-MM-DD, why: ...}}}}")
        elif w.last_day is None:
            bad(("policies",), f"policy {pid} has no end date in its text; set overrides {pid}.effective.end or {pid}.effective.duration_years")
        for case, shares in (policy.funding.cases or {}).items():
            if shares is None:
                bad(("policies",), f"policy {pid}: funding shares for {policy.funding.by} = {case} are not in the text; set overrides {pid}.funding.cases.{case} (e.g. {{city: 1/2, county: 1/2}})")
    for key in spec.programs:
        if key not in programs:
            bad(("programs", key), f"unknown program; use policy.program, e.g. {next(iter(programs))}")
    for key in spec.pools:
        if key not in pools:
            bad(("pools", key), f"unknown pool; pools are {', '.join(sorted(pools))}")
    for i, group in enumerate(spec.stacking):
        for name in group.programs:
            if name not in programs:
                bad(("stacking", i, "programs"), f"unknown program {name!r}; use policy.program")
    for i, seg in enumerate(spec.segments):
        for key in seg.take_up:
            if key not in programs:
                bad(("segments", i, "take_up", key), f"unknown program; use policy.program, e.g. {next(iter(programs))}")
                continue
            policy, prog_id = programs[key]
            needed = set(policy.programs[prog_id].attributes())
            needed |= policy.uplift_attributes(prog_id)
            funding = policy.funding_of(prog_id)
            if funding.by:
                needed.add(funding.by)
            behaviour = spec.programs.get(key)
            if behaviour and behaviour.score in VOCABULARY:
                needed.add(behaviour.score)
            missing = sorted(needed - set(seg.attributes))
            if missing:
                bad(("segments", i, "take_up", key), f"segment {seg.name} takes up {key}, which needs attributes {', '.join(missing)}; give them under segments.{i}.attributes")
    return problems


def load_any(path: Path) -> tuple[str, Any]:
    """Load ``path`` as the kind its fields say: a policy has programs, a scenario segments."""
    data, _ = read_yaml(Path(path), InputError)
    if "segments" in data:  # checked first: a scenario may also have a 'programs' section
        return "scenario", load_scenario(path)
    if "programs" in data:
        return "policy", load_policy(path)
    raise InputError.one(path, "", "is neither a policy (it has no 'programs') nor a scenario (it has no 'segments')", 1)
