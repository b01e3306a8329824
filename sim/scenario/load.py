"""Loading scenario files: YAML in, a :class:`~sim.scenario.schema.Scenario` out, policies included.

The scenario is validated, its overrides are applied to the raw data of each policy it
names (so a bad override is reported at the override's line, in the scenario), the
policies are validated, and then what only makes sense with both in hand is checked:
program and pool names, blank dates, attributes a program needs.  Every problem comes
back at once with its file, line and field.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.errors import InputError, PolicyError, Problem, ScenarioError
from sim.policy.attributes import VOCABULARY
from sim.policy.load import load_policy, resolve_policy, validate_policy
from sim.policy.loader import Lines, dotted, line_of, problems_from, read_yaml
from sim.policy.models import Policy, implicit_pools
from sim.policy.overrides import apply_path, exists, set_path
from sim.scenario.data import Rows, read_rows
from sim.scenario.footprint import available_memory, footprint, size
from sim.scenario.posterior import Draws, read_draws
from sim.scenario.schema import PolicySource, Scenario, ScenarioFile
from sim.scenario.uncertain import Parameter, check_factors, extract, is_distribution, may_vary, refusal


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, validate and resolve a scenario and its policies.

    Raises :class:`ScenarioError` (or :class:`PolicyError` for a bad policy) listing every
    problem with file, line and field.
    """
    path = Path(path)
    raw, lines = read_yaml(path, ScenarioError)
    if "segments" not in raw and "programs" in raw and "id" in raw:
        raise ScenarioError.one(path, "", "is a policy file, not a scenario: it has id and programs but no segments; "
                                "give a scenario that names this policy, e.g. scenarios/binjiang.yaml "
                                f"(`sim validate {path}` checks a policy)", 1)
    for key, value in (overrides or {}).items():
        apply_path(raw, key, value, str(path))
    return build_scenario(raw, str(path), lines, path.resolve().parent)


def build_scenario(raw: dict, file: str, lines: Lines, folder: Path, *, earlier: Scenario | None = None) -> Scenario:
    """Validate a scenario's data and its policies; ``earlier``: the scenario this one varies (no file read again)."""
    found = extract(raw, file, lines)
    problems, parameters = list(found.problems), found.parameters
    try:
        spec = ScenarioFile.model_validate(found.plain)
    except ValidationError as exc:
        more = problems_from(exc, file, lines)
        unknown = [p.field for p in more if p.message.startswith("unknown field")]
        problems += [p for p in found.stray if not any(_within(p.field, f) for f in unknown)]
        # a field whose distribution was refused, or misplaced, is not reported again as "not a number"
        told = found.refused + [p.field for p in problems]
        raise ScenarioError(problems + [p for p in more if not any(_within(p.field, f) for f in told)]) from None
    problems += found.stray
    if earlier is None:  # a variant may hold every number of a factor fixed (sim sensitivity does)
        problems += check_factors(raw, parameters, file, lines)
    if problems:
        raise ScenarioError(problems)
    if earlier is not None and raw.get("overrides") == earlier.raw.get("overrides"):
        policies, sources, policy_data = earlier.policies, earlier.sources, list(earlier.policy_data)
    else:
        sources = earlier.sources if earlier is not None else _read_policies(spec, file, lines, folder)
        policies, policy_data = _load_policies(spec, sources, file, lines)
    problems = _cross_checks(spec, policies, sources, file, lines)
    if problems:
        raise ScenarioError(problems)
    posterior, files, data = None, [], {}
    for i, segment in enumerate(spec.segments):
        if segment.from_data is not None:
            data[segment.name] = _rows(segment, i, file, lines, folder, earlier)
            files.append((segment.from_data.file, data[segment.name].sha256))
    if spec.posterior is not None:
        posterior, parameters = _posterior(spec, parameters, file, lines, folder, earlier)
        files.append((spec.posterior.file, posterior.sha256))
    digest = inputs_digest(raw, policy_data, files)
    return Scenario(spec=spec, policies=policies, path=file, raw=raw, sha256=digest, sources=sources,
                    policy_data=tuple(policy_data), lines=lines, parameters=tuple(parameters), posterior=posterior,
                    files=tuple(files), data=data)


def _within(field: str, outer: str) -> bool:
    return field == outer or field.startswith(outer + ".")


def inputs_digest(raw: dict, policy_data: list[dict], files: list[tuple[str, str]] | None = None) -> str:
    """A fingerprint of everything a run depends on: the scenario and its policies, as resolved, and the
    sha256 of each data file it reads (so that a resume with a changed file is refused)."""
    text = json.dumps([raw, policy_data] + ([sorted(files)] if files else []), sort_keys=True, default=str,
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _rows(segment, index: int, file: str, lines: Lines, folder: Path, earlier: Scenario | None) -> Rows:
    """The rows a segment resamples its firms from (read once; a variant keeps its scenario's)."""
    source = segment.from_data
    if earlier is not None:
        before = next((s for s in earlier.spec.segments if s.name == segment.name), None)
        if before is not None and before.from_data is not None and before.from_data.file == source.file \
                and before.from_data.columns == source.columns:
            return earlier.data[segment.name]
    path = folder / source.file
    if not path.is_file():
        loc = ("segments", index, "from_data", "file")
        raise ScenarioError.one(file, dotted(loc), f"{source.file}: no such data file (a path relative to the "
                                f"scenario's folder, {folder})", line_of(lines, loc))
    shown = str(Path(file).parent / source.file)
    return read_rows(path, shown, source.columns)


def _posterior(spec: ScenarioFile, parameters: list[Parameter], file: str, lines: Lines, folder: Path,
               earlier: Scenario | None) -> tuple[Draws, list[Parameter]]:
    """Read the scenario's posterior draws; each parameter they name takes their marginal in place of its prior.

    A variant that holds a parameter fixed (``sim run --set``, ``sim sensitivity``) keeps
    its value: the posterior's column of it is left out.
    """
    loc = ("posterior", "file")
    if earlier is not None and earlier.posterior is not None and earlier.spec.posterior == spec.posterior:
        draws = earlier.posterior
    else:
        try:
            draws = read_draws(folder / spec.posterior.file, spec.posterior.file)
        except ValueError as exc:
            raise ScenarioError.one(file, dotted(loc), str(exc), line_of(lines, loc)) from None
    available = [p.path for p in parameters] + [f"factors.{n}" for n in sorted(spec.factors)]
    unknown = [n for n in draws.names if n not in available]
    if unknown and earlier is None:
        raise ScenarioError.one(file, dotted(loc), f"{draws.file} gives {', '.join(unknown)}, which "
                                f"{'is not an uncertain number' if len(unknown) == 1 else 'are not uncertain numbers'} "
                                f"of this scenario (they are: {', '.join(available) or 'none'}); calibrate this "
                                "scenario again", line_of(lines, loc))
    if unknown:
        draws = draws.without(set(unknown))
    out = []
    for p in parameters:
        if p.path in draws.names:
            values, weights = draws.marginal(p.path)
            p = replace(p, dist="choice", numbers=(), values=values, weights=weights, factor=None, loading=0.0,
                        why=f"posterior: {draws.file}", _frozen=None)
        out.append(p)
    return draws, out


def yaml_text(value: Any) -> str:
    """A value as one line of YAML (``0.5``, ``5000万``, ``{dist: beta, mean: 0.6, sd: 0.1}``): how --set takes it."""
    if isinstance(value, (dict, list)):
        import io

        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = True
        yaml.width = 10_000
        buffer = io.StringIO()
        yaml.dump(value, buffer)
        return buffer.getvalue().strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def file_digest(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _read_policies(spec: ScenarioFile, file: str, lines: Lines, folder: Path) -> dict[str, PolicySource]:
    """Read each policy file the scenario names, once."""
    sources = {}
    for i, name in enumerate(spec.policies):
        try:
            ppath = resolve_policy(name, base=folder.parent if folder.name == "scenarios" else folder)
            data, plines = read_yaml(ppath, PolicyError)
        except PolicyError as exc:
            if any(p.file == name for p in exc.problems):  # no such file or id: the scenario's line is at fault
                raise ScenarioError.one(file, f"policies.{i}", exc.problems[0].message, line_of(lines, ("policies", i))) from None
            raise
        sources[name] = PolicySource(path=str(ppath), data=implicit_pools(data), lines=plines)
    return sources


def _load_policies(spec: ScenarioFile, sources: dict[str, PolicySource], file: str,
                   lines: Lines) -> tuple[dict[str, Policy], list[dict]]:
    """Apply the scenario's overrides to each policy's data and validate it."""
    names = {}  # a policy is reached by its id, or by its file's name
    for name, source in sources.items():
        names[Path(name).stem] = name
        names.setdefault(str(source.data.get("id")), name)
    by_policy: dict[str, dict[str, Any]] = {}
    prefixes: dict[str, str] = {}
    for key, override in spec.overrides.items():
        prefix, _, rest = key.partition(".")
        if prefix not in names or not rest:
            ids = ", ".join(sorted({str(s.data.get("id")) for s in sources.values()}))
            raise ScenarioError.one(file, f"overrides.{key}", f"must start with one of the scenario's policies ({ids}) "
                                    f"and name a field, e.g. {ids.split(', ')[0]}.pools.<pool>.budget",
                                    line_of(lines, ("overrides", key)))
        by_policy.setdefault(names[prefix], {})[rest] = override.value
        prefixes[names[prefix]] = prefix
        if rest.endswith(".rationing"):
            by_policy[names[prefix]][rest + "_basis"] = "scenario"
    out: dict[str, Policy] = {}
    datas: list[dict] = []
    for name in spec.policies:
        source = sources[name]
        data = copy.deepcopy(source.data)
        prefix = prefixes.get(name, Path(name).stem)
        try:
            for key, value in by_policy.get(name, {}).items():
                if is_distribution(value) and not may_vary(f"{prefix}.{key}") and exists(data, key):
                    loc = ("overrides", f"{prefix}.{key}", "value")
                    raise ScenarioError.one(file, dotted(loc), refusal(f"{prefix}.{key}"), line_of(lines, loc))
                set_path(data, key, value, ScenarioError, f"{file}: overrides.{prefix}")
            policy = validate_policy(data, source.path, source.lines)
            datas.append(data)
        except PolicyError as exc:
            raise _blame_overrides(exc, prefix, by_policy.get(name, {}), file, lines) from None
        out[policy.id] = policy
    return out, datas


GRADED = ("choice", "empirical", "constant")  # award shares given as discrete grades (档)


def _tops_up(policy: Policy, program_id: str) -> bool:
    return any(r.rule == "top_up" and program_id in r.programs for r in policy.stacking)


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


def _cross_checks(spec: ScenarioFile, policies: dict[str, Policy], sources: dict[str, PolicySource], file: str,
                  lines: Lines) -> list[Problem]:
    """What only makes sense with the policies in hand: names, dates, pools, needed attributes, size.

    Everything `sim run` would refuse about the inputs is refused here, so that
    `sim validate` refuses it first, with the line.
    """
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
    for key, behaviour in spec.programs.items():
        if key not in programs:
            bad(("programs", key), f"unknown program; use policy.program, e.g. {next(iter(programs))}")
        elif behaviour.award_share is not None and behaviour.award_share.dist not in GRADED and _tops_up(*programs[key]):
            bad(("programs", key, "award_share"),
                f"{key} pays the difference only on promotion to a higher grade (补足差额), so its award is given "
                f"as grades: use {' or '.join(GRADED)}, e.g. {{dist: choice, values: {{0.4: 2, 0.7: 2, 1.0: 1}}, why: …}}; "
                f"got {behaviour.award_share.dist}")
    for key in spec.pools:
        if key not in pools:
            bad(("pools", key), f"unknown pool; pools are {', '.join(sorted(pools))}")
    for key in spec.bases:
        if key not in programs and key not in policies:
            bad(("bases", key), f"unknown policy or program; use a policy id ({', '.join(policies)}) or policy.program")
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
            missing = sorted(needed - seg.attribute_names)
            if missing:
                bad(("segments", i, "take_up", key), f"segment {seg.name} takes up {key}, which needs attributes {', '.join(missing)}; give them under segments.{i}.attributes")
    problems += _payments(spec, programs, file, lines)
    if not problems:
        problems += _review_dates(spec, policies, file, lines)
        problems += _firm_caps(spec, policies, sources)
        problems += _fits_in_memory(spec, policies, file, lines)
    return problems


PAID = {"decision": "at the decision", "redemption": "when its vouchers are redeemed",
        "milestone": "after a milestone (completion)", "instalments": "in yearly instalments"}
TAKES = {"decision": (), "redemption": ("lag_months", "lapse", "deadline"), "milestone": ("lag_months", "lapse", "deadline"),
         "instalments": ("instalments",)}
NEEDS = {"redemption": ("lag_months", "{dist: uniform, low: 2, high: 4, why: …}"),
         "milestone": ("lag_months", "{dist: uniform, low: 18, high: 30, why: …}"),
         "instalments": ("instalments", "{shares: [1/3, 1/3, 1/3], why: …}")}


def _payments(spec: ScenarioFile, programs: dict[str, tuple[Policy, str]], file: str, lines: Lines) -> list[Problem]:
    """Payment assumptions fit how the policy pays each program, and a program taken up has those it needs.

    The policy says how a program pays (``payment.kind``); the scenario gives the numbers:
    months of lag (redemption, milestone), the share never paid and a deadline, or the
    yearly shares of instalments.  Anything else is refused, at its line.
    """
    problems = []
    for key, behaviour in spec.programs.items():
        if key not in programs or behaviour.payment is None:
            continue
        policy, prog_id = programs[key]
        program = policy.programs[prog_id]
        kind = program.pays_on
        for name in behaviour.payment.given():
            if name in TAKES[kind]:
                continue
            loc = ("programs", key, "payment", name)
            if kind == "decision":
                message = (f"{key} is paid at the decision: its policy states no later payment, so there is no lag, "
                           "lapse, deadline or instalment to assume (only programs whose policy says they pay on "
                           "redemption, after a milestone or in instalments take them)")
            else:
                message = (f"{key} is paid {PAID[kind]} ({program.payment.clause}); it takes {', '.join(TAKES[kind])}, not {name}")
            problems.append(Problem(file, dotted(loc), message, line_of(lines, loc)))
    seen = set()
    for i, seg in enumerate(spec.segments):
        for key in seg.take_up:
            if key not in programs or key in seen:
                continue
            seen.add(key)
            policy, prog_id = programs[key]
            program = policy.programs[prog_id]
            if program.pays_on not in NEEDS:
                continue
            field, example = NEEDS[program.pays_on]
            behaviour = spec.programs.get(key)
            if behaviour is None or behaviour.payment is None or getattr(behaviour.payment, field) is None:
                loc = ("segments", i, "take_up", key)
                problems.append(Problem(file, dotted(loc), f"segment {seg.name} takes up {key}, which its policy pays "
                                        f"{PAID[program.pays_on]} ({program.payment.clause}); "
                                        f"give programs.{key}.payment.{field}: {example}", line_of(lines, loc)))
    return problems


def _review_dates(spec: ScenarioFile, policies: dict[str, Policy], file: str, lines: Lines) -> list[Problem]:
    """A pool's review (its decision day) cannot come before the call of any of its programs ends."""
    problems = []
    for key, behaviour in spec.pools.items():
        pid, _, pool_id = key.partition(".")
        if not behaviour.review or pid not in policies:
            continue
        policy = policies[pid]
        members = [prog for prog in policy.enabled_programs() if policy.pool_of(prog) == pool_id]
        calls = {m: (spec.programs.get(f"{pid}.{m}").call.end if f"{pid}.{m}" in spec.programs else "12-31") for m in members}
        late = {m: end for m, end in calls.items() if end > behaviour.review}
        if late:
            program, end = max(late.items(), key=lambda kv: kv[1])
            loc = ("pools", key, "review")
            problems.append(Problem(file, dotted(loc), f"review on {behaviour.review} comes before the call of "
                                    f"{pid}.{program} ends ({end}); review on or after {end}, or end that call earlier",
                                    line_of(lines, loc)))
    return problems


def _firm_caps(spec: ScenarioFile, policies: dict[str, Policy], sources: dict[str, PolicySource]) -> list[Problem]:
    """A cap shared by several programs needs its (enabled) programs in one pool."""
    problems = []
    by_id = {Path(name).stem: source for name, source in sources.items()}
    for pid, policy in policies.items():
        enabled = policy.enabled_programs()
        for i, cap in enumerate(policy.firm_caps):
            pools = sorted({policy.pool_of(p) for p in cap.programs if p in enabled})
            if len(pools) > 1:
                source = by_id.get(pid)
                loc = ("firm_caps", i, "programs")
                problems.append(Problem(source.path if source else pid, dotted(loc),
                                        f"cap {cap.clause} spans pools {', '.join(pools)}; sim needs the programs a cap "
                                        "shares to draw on one pool", line_of(source.lines, loc) if source else None))
    return problems


def _fits_in_memory(spec: ScenarioFile, policies: dict[str, Policy], file: str, lines: Lines) -> list[Problem]:
    """A run whose firms and applications cannot fit in this machine's memory is refused with the estimate."""
    programs = sum(len(p.enabled_programs()) for p in policies.values())
    pools = sum(len(p.pools) for p in policies.values())
    need = footprint(spec, programs, pools, 4)
    have = available_memory()
    if need.run_bytes <= have:
        return []
    i, seg = max(enumerate(spec.segments), key=lambda s: s[1].firms_at_start + sum(s[1].arrivals_in(y) for y in spec.horizon.years))
    loc = ("segments", i, "firms_at_start" if seg.firms_at_start >= sum(seg.arrivals_in(y) for y in spec.horizon.years) else "arrivals_per_year")
    return [Problem(file, dotted(loc), f"a run would hold about {need.firms:,.0f} firms and {need.applications:,.0f} "
                    f"applications, about {size(need.run_bytes)} of memory; this machine has {size(have)} available. "
                    "Model fewer firms (a sample, with amounts scaled up) or use a larger machine", line_of(lines, loc))]


def load_any(path: Path) -> tuple[str, Any]:
    """Load ``path`` as the kind its fields say: a policy has an id and programs, a scenario policies and segments."""
    data, _ = read_yaml(Path(path), InputError)
    if "segments" in data or "policies" in data:  # first: a scenario may also have a 'programs' section
        return "scenario", load_scenario(path)
    if "programs" in data or "id" in data:
        return "policy", load_policy(path)
    raise InputError.one(path, "", "is neither a policy (it has no 'id' and 'programs') nor a scenario "
                         "(it has no 'policies' and 'segments')", 1)
