"""Seeded random partnership instances, for benchmarks and property tests.

:func:`generate_instance` returns raw instance data (the dict that
:func:`allocopt.instance.schema.instance_from_dict` validates); :func:`write_instance` saves it as YAML or JSON. This
module never imports Pyomo.

Shape of a generated instance (``P`` partners, ``N`` initiatives, ``T`` phases, ``R`` resources):

* resources: ``capital`` (USD, 1), ``talent`` (FTE-month, 15,000), then ``data`` (dataset, 0: non-financial),
  ``distribution`` (slot, 20,000), ``co-marketing`` (campaign-week, 8,000), ... Each resource after the first
  two is held by about a third of the partners.
* initiatives: each runs in 1 to 4 consecutive phases from some start phase; every stage needs capital or
  talent, sometimes a second resource (so 1-2 resources per stage). Its value grows towards its later phases,
  and its value/cost ratio is spread around 1: some initiatives pay back, some do not. Each initiative is open
  to a *consortium* of partners (about ``density * P``, at least 2, plus up to 2 more), written as
  ``eligible`` lists when it is not every partner, so the number of supply arcs grows linearly with ``N``.
* capacities: each partner's capacity per resource and phase is the demand it is eligible for divided by
  ``tightness`` (with noise), so all initiatives together need about ``tightness`` times what the partners can
  give after their reserve margins: the plan has to choose.
* a few ``requires`` (only on lower-numbered initiatives that start no later: no cycles, never impossible),
  ``requires_any`` and ``excludes`` pairs (never between an initiative and one it depends on); some adjustable
  initiatives, fixed ``benefit_share`` splits, ``max_funders``; reserve margins (0-15%), exposure caps and
  concentration caps on some partners; a few ``total`` caps and maximum commitments.

Guarantee: every generated instance is feasible under any model file. There are no mandatory initiatives, no
minimum commitments and every stand-alone value is 0, so pausing every initiative is always a valid plan
(every maximum, cap and rule holds at zero contribution and zero benefit).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["count_entries", "estimated_size", "generate_instance", "write_instance"]

# (name, unit, unit_value) of the resources, in the order they are added.
RESOURCE_CATALOGUE: list[tuple[str, str, float]] = [
    ("capital", "USD", 1),
    ("talent", "FTE-month", 15000),
    ("data", "dataset", 0),
    ("distribution", "slot", 20000),
    ("co-marketing", "campaign-week", 8000),
    ("equipment", "machine-month", 5000),
    ("cloud-credits", "USD-credit", 1),
    ("ip-licences", "licence", 50000),
]

# Typical need of one stage at size 1, per resource (by catalogue index; further resources use the last).
TYPICAL_NEED: list[float] = [250000, 10, 2, 3, 6, 4, 50000, 1]

MAX_STAGES = 4
"""An initiative runs in at most this many consecutive phases."""


def _round_units(x: float, unit_value: float, name: str) -> float | int:
    """Readable units: money to about three significant figures, counts whole, FTE-months in halves."""
    if x <= 0:
        return 0
    if unit_value == 1 or name == "capital":
        return _round_money(x)
    if name == "talent":
        half = round(x * 2) / 2
        return int(half) if half == int(half) else half
    return max(1, round(x))


def _round_money(x: float) -> int:
    if x <= 0:
        return 0
    step = 10 ** max(0, int(math.floor(math.log10(x))) - 2)
    return int(round(x / step) * step)


def _closure(i: int, requires: list[list[int]], memo: dict[int, frozenset[int]]) -> frozenset[int]:
    """All initiatives ``i`` needs, directly or through others (requires only point to lower numbers)."""
    if i not in memo:
        found: set[int] = set()
        for j in requires[i]:
            found.add(j)
            found |= _closure(j, requires, memo)
        memo[i] = frozenset(found)
    return memo[i]


def generate_instance(
    partners: int,
    initiatives: int,
    phases: int,
    resources: int,
    seed: int,
    *,
    density: float = 0.15,
    tightness: float = 2.5,
) -> dict[str, Any]:
    """Generate raw instance data, the same for the same arguments.

    Args:
        partners: number of partners (``partner-01``, ...), at least 1.
        initiatives: number of initiatives (``initiative-001``, ...), at least 1.
        phases: number of phases (``phase-1``, ...), at least 1.
        resources: number of resources (``capital``, ``talent``, ``data``, ...), at least 1.
        seed: random seed; the output depends on nothing else.
        density: about the fraction of partners each initiative is open to (at least 2 partners, plus 0-2
            more); 1 opens every initiative to every partner. Keeps the model sparse for many partners.
        tightness: about how many times the total demand of all initiatives exceeds the partners' usable
            capacity.

    Returns:
        A dict that :func:`allocopt.instance.schema.instance_from_dict` accepts. Feasible under any model file (see
        the module docstring).
    """
    _check_arguments(partners, initiatives, phases, resources, density, tightness)
    rng = random.Random(seed)  # every draw below comes from it, in a fixed order: keep that order
    d = _draft(rng, partners, initiatives, phases, resources)
    plans = _initiative_plans(rng, d, density)
    requires, requires_any, excludes = _dependencies(rng, initiatives, plans.stage_phases)
    capacity = _capacities(rng, d, plans, tightness)
    data_partners = _partner_entries(rng, d, capacity)
    data_initiatives: dict[str, Any] = {}
    for i, name in enumerate(d.initiative_names):
        phases_out = _stage_values(rng, d, plans.needs[i])
        dependencies = (requires[i], requires_any[i], excludes[i])
        entry = _initiative_terms(rng, d, plans.needs[i], plans.consortia[i], dependencies)
        entry["phases"] = phases_out
        data_initiatives[name] = entry
    commitments = _commitments(rng, d, plans.needs, capacity)
    data: dict[str, Any] = {
        "name": f"generated-p{partners}-i{initiatives}-t{phases}-r{resources}-s{seed}",
        "currency": "USD",
        "resources": {name: {"unit": unit, "unit_value": value} for name, unit, value in d.resource_specs},
        "phases": d.phase_names,
        "partners": data_partners,
        "initiatives": data_initiatives,
    }
    if commitments:
        data["commitments"] = list(commitments.values())
    return data


def _check_arguments(partners: int, initiatives: int, phases: int, resources: int, density: float,
                     tightness: float) -> None:
    for label, count in (("partners", partners), ("initiatives", initiatives), ("phases", phases),
                         ("resources", resources)):
        if count < 1:
            raise ValueError(f"{label} must be at least 1, got {count}")
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    if tightness <= 0:
        raise ValueError(f"tightness must be positive, got {tightness}")


_Units = dict[int, dict[int, float | int]]
"""Units by two indices: an initiative's needs (phase -> resource -> units) or a partner's capacity (resource ->
phase -> units)."""


@dataclass
class _Draft:
    """What is drawn first and used throughout: the sizes and names, the resources and who holds them, and each
    partner's reserve margin and scale."""

    partners: int
    initiatives: int
    phases: int
    resources: int
    partner_names: list[str]
    initiative_names: list[str]
    phase_names: list[str]
    resource_specs: list[tuple[str, str, float]]
    """(name, unit, unit_value) of each resource."""
    typical: list[float]
    unit_value: list[float]
    core: list[int]
    """capital and talent: held by every partner."""
    holders: list[set[int]]
    reserve: list[float]
    partner_scale: list[float]


def _draft(rng: random.Random, partners: int, initiatives: int, phases: int, resources: int) -> _Draft:
    pw, iw = max(2, len(str(partners))), max(3, len(str(initiatives)))
    partner_names = [f"partner-{k + 1:0{pw}d}" for k in range(partners)]
    initiative_names = [f"initiative-{k + 1:0{iw}d}" for k in range(initiatives)]
    phase_names = [f"phase-{k + 1}" for k in range(phases)]

    resource_specs: list[tuple[str, str, float]] = []
    for k in range(resources):
        if k < len(RESOURCE_CATALOGUE):
            resource_specs.append(RESOURCE_CATALOGUE[k])
        else:
            resource_specs.append((f"resource-{k + 1}", "unit", float(rng.choice([0, 100, 1000, 10000]))))
    typical = [TYPICAL_NEED[min(k, len(TYPICAL_NEED) - 1)] for k in range(resources)]
    unit_value = [spec[2] for spec in resource_specs]
    core = list(range(min(2, resources)))  # capital, talent: held by every partner

    # Special resources (data, distribution, ...) are held by about a third of the partners.
    holders: list[set[int]] = []
    for r in range(resources):
        if r in core:
            holders.append(set(range(partners)))
        else:
            n_holders = max(1, round(partners / 3))
            holders.append(set(rng.sample(range(partners), n_holders)))

    # Partner settings drawn up front so capacities can allow for the reserve margin.
    reserve = [rng.choice([0.0, 0.0, 0.05, 0.1, 0.15]) for _ in range(partners)]
    partner_scale = [math.exp(rng.gauss(0, 0.3)) for _ in range(partners)]
    return _Draft(partners, initiatives, phases, resources, partner_names, initiative_names, phase_names,
                  resource_specs, typical, unit_value, core, holders, reserve, partner_scale)


@dataclass
class _Plans:
    """Per initiative: its consortium, the phases it runs in, and its needs (phase -> resource -> units)."""

    consortia: list[list[int]]
    stage_phases: list[list[int]]
    needs: list[_Units]


def _initiative_plans(rng: random.Random, d: _Draft, density: float) -> _Plans:
    """Each initiative's consortium, its consecutive phases, and the needs of its stages."""
    partners, phases, resources, core = d.partners, d.phases, d.resources, d.core
    base_size = max(2, round(density * partners))
    plans = _Plans([], [], [])
    for i in range(d.initiatives):
        k = min(partners, base_size + rng.randint(0, 2))
        if k < partners:
            lead = i % partners  # so that every partner sits in some consortium
            others = rng.sample([p for p in range(partners) if p != lead], k - 1)
            consortium = sorted([lead, *others])
        else:
            consortium = list(range(partners))
        plans.consortia.append(consortium)

        start = min(int(rng.random() ** 1.5 * phases), phases - 1)
        length = rng.randint(1, min(MAX_STAGES, phases - start))
        own_phases = list(range(start, start + length))
        plans.stage_phases.append(own_phases)

        size = math.exp(rng.gauss(0, 0.6))
        available_extra = [r for r in range(len(core), resources) if d.holders[r] & set(consortium)]
        plan: _Units = {}
        for t in own_phases:
            growth = 1.0 + 0.4 * (t - start)  # later phases of an initiative are bigger
            plan[t] = _stage_needs(rng, d, size, growth, available_extra)
        plans.needs.append(plan)
    return plans


def _stage_needs(rng: random.Random, d: _Draft, size: float, growth: float,
                 available_extra: list[int]) -> dict[int, float | int]:
    """The needs of one stage: capital or talent, sometimes a second resource, at the initiative's size and the
    stage's growth."""
    core = d.core
    primary = rng.choice(core) if len(core) > 1 and rng.random() < 0.35 else 0
    chosen = [primary]
    if rng.random() < 0.45:
        extra = [r for r in core if r != primary] + available_extra
        if extra:
            chosen.append(rng.choice(extra))
    stage: dict[int, float | int] = {}
    for r in chosen:
        units = d.typical[r] * size * growth * rng.uniform(0.6, 1.4)
        stage[r] = _round_units(units, d.unit_value[r], d.resource_specs[r][0])
    return stage


def _dependencies(rng: random.Random, initiatives: int, stage_phases: list[list[int]]
                  ) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """requires, requires_any (only on lower-numbered initiatives starting no later) and excludes (never between
    an initiative and one it depends on), per initiative."""
    requires: list[list[int]] = [[] for _ in range(initiatives)]
    requires_any: list[list[int]] = [[] for _ in range(initiatives)]
    for i in range(1, initiatives):
        earlier = [j for j in range(i) if stage_phases[j][0] <= stage_phases[i][0]]
        if not earlier:
            continue
        draw = rng.random()
        if draw < 0.12:
            requires[i] = [rng.choice(earlier)]
        elif draw < 0.16 and len(earlier) >= 2:
            requires_any[i] = sorted(rng.sample(earlier, min(len(earlier), rng.randint(2, 3))))
    memo: dict[int, frozenset[int]] = {}
    depends = [_closure(i, requires, memo) | set(requires_any[i]) for i in range(initiatives)]
    excludes: list[list[int]] = [[] for _ in range(initiatives)]
    n_excludes = initiatives // 15 + (1 if initiatives >= 4 else 0)
    for _ in range(n_excludes):
        i, j = sorted(rng.sample(range(initiatives), 2))
        if i in depends[j] or j in depends[i] or i in excludes[j]:
            continue
        excludes[j].append(i)
    return requires, requires_any, excludes


def _capacities(rng: random.Random, d: _Draft, plans: _Plans, tightness: float) -> list[_Units]:
    """Per partner, resource and phase: the demand it is eligible for, divided by the tightness."""
    partners, phases, resources = d.partners, d.phases, d.resources
    attributed = [[[0.0] * phases for _ in range(resources)] for _ in range(partners)]
    for i in range(d.initiatives):
        for t, stage in plans.needs[i].items():
            for r, units in stage.items():
                suppliers = [p for p in plans.consortia[i] if p in d.holders[r]]
                for p in suppliers:
                    attributed[p][r][t] += units / len(suppliers)
    capacity: list[_Units] = []
    for p in range(partners):
        own: _Units = {}
        for r in range(resources):
            raw = [
                attributed[p][r][t] / tightness * d.partner_scale[p] * rng.uniform(0.8, 1.2) / (1 - d.reserve[p])
                for t in range(phases)
            ]
            if r in d.core:  # budgets and teams exist in every phase: smooth a fifth of the total over phases
                mean = sum(raw) / phases
                raw = [0.8 * x + 0.2 * mean for x in raw]
            per_phase: dict[int, float | int] = {}
            for t, x in enumerate(raw):
                units = _round_units(x, d.unit_value[r], d.resource_specs[r][0])
                if units > 0:
                    per_phase[t] = units
            if per_phase:
                own[r] = per_phase
        if not own:  # a partner in no consortium still brings some capital
            own[0] = {t: _round_money(d.typical[0] * d.partner_scale[p]) for t in range(phases)}
        capacity.append(own)
    return capacity


def _partner_entries(rng: random.Random, d: _Draft, capacity: list[_Units]
                     ) -> dict[str, Any]:
    """Each partner as the file writes it: capacities (one number where every phase has the same), sometimes a
    total, and its risk settings."""
    data_partners: dict[str, Any] = {}
    specs, unit_value = d.resource_specs, d.unit_value
    for p, name in enumerate(d.partner_names):
        cap_out: dict[str, Any] = {}
        for r, per_phase in capacity[p].items():
            values = list(per_phase.values())
            if len(per_phase) == d.phases and all(v == values[0] for v in values):
                cap_out[specs[r][0]] = values[0]
            else:  # every phase named: a phase left out would read as a likely mistake (a warning)
                cap_out[specs[r][0]] = {d.phase_names[t]: per_phase.get(t, 0) for t in range(d.phases)}
        partner_entry: dict[str, Any] = {"capacity": cap_out}
        if 1 in capacity[p] and rng.random() < 0.2:
            partner_entry["total"] = {specs[1][0]: _round_units(
                0.8 * sum(capacity[p][1].values()), unit_value[1], specs[1][0])}
        risk: dict[str, Any] = {}
        if d.reserve[p] > 0:
            risk["reserve_margin"] = d.reserve[p]
        if rng.random() < 0.4:
            usable = (1 - d.reserve[p]) * sum(
                unit_value[r] * u for r, per_phase in capacity[p].items() for u in per_phase.values()
            )
            if usable > 0:
                risk["max_exposure"] = _round_money(usable * rng.uniform(0.5, 0.9))
        if rng.random() < 0.15:
            risk["max_initiative_share"] = rng.choice([0.3, 0.4, 0.5, 0.6])
        if risk:
            partner_entry["risk"] = risk
        data_partners[name] = partner_entry
    return data_partners


def _stage_values(rng: random.Random, d: _Draft, plan: _Units) -> dict[str, Any]:
    """An initiative's stages as the file writes them: needs, and a value that grows towards its later phases,
    the whole about its cost times a value/cost ratio spread around 1."""
    cost = {t: sum(d.unit_value[r] * u for r, u in stage.items()) for t, stage in plan.items()}
    ratio = math.exp(rng.gauss(0.05, 0.35))
    total_value = ratio * sum(cost.values())
    weights = [(k + 1) ** 1.5 * rng.uniform(0.7, 1.3) for k in range(len(plan))]
    if len(plan) > 1 and rng.random() < 0.3:
        weights[0] = 0.0  # a pilot that earns nothing yet
    total_weight = sum(weights)
    phases_out: dict[str, Any] = {}
    for k, (t, stage) in enumerate(plan.items()):
        row: dict[str, Any] = {d.resource_specs[r][0]: u for r, u in stage.items()}
        row["value"] = _round_money(total_value * weights[k] / total_weight)
        phases_out[d.phase_names[t]] = row
    return phases_out


def _initiative_terms(rng: random.Random, d: _Draft, plan: _Units,
                      consortium: list[int], dependencies: tuple[list[int], list[int], list[int]]
                      ) -> dict[str, Any]:
    """An initiative's fields but its phases: gate, dependencies, eligible partners, and sometimes a contract's
    benefit shares or a most number of funders."""
    entry: dict[str, Any] = {}
    if rng.random() < 0.2:
        entry["gate"] = "adjustable"
        entry["min_scale"] = rng.choice([0.25, 0.4, 0.5, 0.6])
    for field_name, others in zip(("requires", "requires_any", "excludes"), dependencies, strict=True):
        if others:
            entry[field_name] = [d.initiative_names[j] for j in others]
    if len(consortium) < d.partners:
        used = sorted({r for stage in plan.values() for r in stage})
        entry["eligible"] = {
            d.resource_specs[r][0]: [d.partner_names[p] for p in consortium if p in d.holders[r]] for r in used
        }
    if len(consortium) >= 2:
        draw = rng.random()
        if draw < 0.15:
            entry["benefit_share"] = _shares(rng, [d.partner_names[p] for p in consortium])
        elif draw < 0.25:
            entry["max_funders"] = rng.randint(1, len(consortium) - 1)
    return entry


def _commitments(rng: random.Random, d: _Draft, needs: list[_Units],
                 capacity: list[_Units]) -> dict[str, dict[str, Any]]:
    """A few maximum commitments (met by contributing nothing), each on its own target and name."""
    commitments: dict[str, dict[str, Any]] = {}
    for _ in range(min(12, d.initiatives // 40 + 1)):
        if rng.random() < 0.5:
            i = rng.randrange(d.initiatives)
            budget = sum(d.unit_value[r] * u for stage in needs[i].values() for r, u in stage.items())
            label = f"budget-{d.initiative_names[i]}"
            if budget > 0 and label not in commitments:
                cap = _round_money(budget * rng.uniform(0.6, 0.9))
                commitments[label] = {"name": label, "initiative": d.initiative_names[i], "max": cap}
        else:
            p = rng.randrange(d.partners)
            r = rng.choice(sorted(capacity[p]))
            t = rng.choice(sorted(capacity[p][r]))
            rname = d.resource_specs[r][0]
            units = _round_units(capacity[p][r][t] * rng.uniform(0.4, 0.8), d.unit_value[r], rname)
            label = f"cap-{d.partner_names[p]}-{rname}-{d.phase_names[t]}"
            if units > 0 and label not in commitments:
                commitments[label] = {"name": label, "partner": d.partner_names[p], "resource": rname,
                                      "phase": d.phase_names[t], "max": units}
    return commitments


def _shares(rng: random.Random, names: list[str]) -> dict[str, float]:
    """Contract shares for ``names``: multiples of 0.05, each at least 0.05, summing to exactly 1."""
    n, steps = len(names), 20
    if n > steps:  # too many for twentieths: equal shares
        equal = round(1 / n, 9)
        return {name: equal if k < n - 1 else 1 - equal * (n - 1) for k, name in enumerate(names)}
    bounds = [0, *sorted(rng.sample(range(1, steps), n - 1)), steps]
    return {name: (bounds[k + 1] - bounds[k]) / steps for k, name in enumerate(names)}


def count_entries(data: Any) -> int:
    """Entries as the reader counts them (:data:`allocopt.io.limits.MAX_NODES`): every mapping, list, key and value."""
    total, stack = 0, [data]
    while stack:
        node = stack.pop()
        total += 1
        if isinstance(node, Mapping):
            total += len(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return total


def _dump_yaml(data: Mapping[str, Any]) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(dict(data), Dumper=dumper, sort_keys=False, default_flow_style=None, width=120,
                          allow_unicode=True)
    return text


def estimated_size(partners: int, initiatives: int, phases: int, resources: int) -> tuple[int, int]:
    """About how many entries and bytes (as YAML) :func:`generate_instance` gives for these sizes, found by
    generating two small samples and extrapolating: sizes grow linearly with the number of initiatives."""
    small, large = min(initiatives, 30), min(initiatives, 120)
    samples = []
    for n in sorted({small, large}):
        data = generate_instance(partners, n, phases, resources, seed=0)
        samples.append((n, count_entries(data), len(_dump_yaml(data).encode("utf-8"))))
    if len(samples) == 1 or samples[-1][0] == initiatives:
        return samples[-1][1], samples[-1][2]
    (n1, e1, b1), (n2, e2, b2) = samples
    per_entry, per_byte = (e2 - e1) / (n2 - n1), (b2 - b1) / (n2 - n1)
    return int(e2 + per_entry * (initiatives - n2)), int(b2 + per_byte * (initiatives - n2))


def write_instance(
    data: Mapping[str, Any], path: str | Path, *, params: Mapping[str, Any] | None = None, force: bool = False
) -> Path:
    """Write instance data to ``path`` and return the path.

    JSON for a ``.json`` suffix; YAML, with a header comment, for ``.yaml`` or ``.yml``. ``params`` (e.g. the
    arguments given to :func:`generate_instance`) are recorded in the YAML header; without them the header
    records the sizes counted from the data. A file already at ``path`` is replaced only if allocopt wrote it,
    unchanged since (a JSON file carries no mark of it), or with ``force``.
    """
    from allocopt.io.files import write_atomic

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".json":
        write_atomic(out, json.dumps(data, indent=1) + "\n", force=force)
        return out
    if suffix not in (".yaml", ".yml"):
        raise ValueError(f"cannot tell the format of '{out}': name it .yaml, .yml or .json")

    if params is not None:
        call = ", ".join(f"{k}={v!r}" for k, v in params.items())
        origin = f"allocopt.instance.generate.generate_instance({call})"
    else:
        origin = "allocopt.instance.generate"
    sizes = ", ".join(
        f"{len(data.get(key) or [])} {key}" for key in ("partners", "initiatives", "phases", "resources")
    )
    header = (
        f"# Generated by {origin}.\n"
        f"# {sizes}. Random data for benchmarks and tests, not a real partnership;\n"
        "# regenerate rather than edit.\n\n"
    )
    write_atomic(out, header + _dump_yaml(data), sign="hash", force=force)
    return out
