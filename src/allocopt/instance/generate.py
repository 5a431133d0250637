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
    for label, count in (("partners", partners), ("initiatives", initiatives), ("phases", phases),
                         ("resources", resources)):
        if count < 1:
            raise ValueError(f"{label} must be at least 1, got {count}")
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    if tightness <= 0:
        raise ValueError(f"tightness must be positive, got {tightness}")

    rng = random.Random(seed)
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

    # -- initiatives: consortium, stages, needs ------------------------------------------------------------
    base_size = max(2, round(density * partners))
    consortia: list[list[int]] = []
    stage_phases: list[list[int]] = []
    needs: list[dict[int, dict[int, float | int]]] = []  # initiative -> phase -> resource -> units
    for i in range(initiatives):
        k = min(partners, base_size + rng.randint(0, 2))
        if k < partners:
            lead = i % partners  # so that every partner sits in some consortium
            others = rng.sample([p for p in range(partners) if p != lead], k - 1)
            consortium = sorted([lead, *others])
        else:
            consortium = list(range(partners))
        consortia.append(consortium)

        start = min(int(rng.random() ** 1.5 * phases), phases - 1)
        length = rng.randint(1, min(MAX_STAGES, phases - start))
        own_phases = list(range(start, start + length))
        stage_phases.append(own_phases)

        size = math.exp(rng.gauss(0, 0.6))
        available_extra = [r for r in range(len(core), resources) if holders[r] & set(consortium)]
        plan: dict[int, dict[int, float | int]] = {}
        for t in own_phases:
            primary = rng.choice(core) if len(core) > 1 and rng.random() < 0.35 else 0
            chosen = [primary]
            if rng.random() < 0.45:
                extra = [r for r in core if r != primary] + available_extra
                if extra:
                    chosen.append(rng.choice(extra))
            growth = 1.0 + 0.4 * (t - start)  # later phases of an initiative are bigger
            stage: dict[int, float | int] = {}
            for r in chosen:
                units = typical[r] * size * growth * rng.uniform(0.6, 1.4)
                stage[r] = _round_units(units, unit_value[r], resource_specs[r][0])
            plan[t] = stage
        needs.append(plan)

    # -- dependencies --------------------------------------------------------------------------------------
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

    # -- capacities: the demand each partner is eligible for, divided by the tightness ---------------------
    attributed = [[[0.0] * phases for _ in range(resources)] for _ in range(partners)]
    for i in range(initiatives):
        for t, stage in needs[i].items():
            for r, units in stage.items():
                suppliers = [p for p in consortia[i] if p in holders[r]]
                for p in suppliers:
                    attributed[p][r][t] += units / len(suppliers)
    capacity: list[dict[int, dict[int, float | int]]] = []
    for p in range(partners):
        own: dict[int, dict[int, float | int]] = {}
        for r in range(resources):
            raw = [
                attributed[p][r][t] / tightness * partner_scale[p] * rng.uniform(0.8, 1.2) / (1 - reserve[p])
                for t in range(phases)
            ]
            if r in core:  # budgets and teams exist in every phase: smooth a fifth of the total over phases
                mean = sum(raw) / phases
                raw = [0.8 * x + 0.2 * mean for x in raw]
            per_phase: dict[int, float | int] = {}
            for t, x in enumerate(raw):
                units = _round_units(x, unit_value[r], resource_specs[r][0])
                if units > 0:
                    per_phase[t] = units
            if per_phase:
                own[r] = per_phase
        if not own:  # a partner in no consortium still brings some capital
            own[0] = {t: _round_money(typical[0] * partner_scale[p]) for t in range(phases)}
        capacity.append(own)

    # -- assemble the raw data -----------------------------------------------------------------------------
    data_resources = {name: {"unit": unit, "unit_value": value} for name, unit, value in resource_specs}
    data_partners: dict[str, Any] = {}
    for p, name in enumerate(partner_names):
        cap_out: dict[str, Any] = {}
        for r, per_phase in capacity[p].items():
            values = list(per_phase.values())
            if len(per_phase) == phases and all(v == values[0] for v in values):
                cap_out[resource_specs[r][0]] = values[0]
            else:
                cap_out[resource_specs[r][0]] = {phase_names[t]: u for t, u in per_phase.items()}
        partner_entry: dict[str, Any] = {"capacity": cap_out}
        if 1 in capacity[p] and rng.random() < 0.2:
            partner_entry["total"] = {resource_specs[1][0]: _round_units(
                0.8 * sum(capacity[p][1].values()), unit_value[1], resource_specs[1][0])}
        risk: dict[str, Any] = {}
        if reserve[p] > 0:
            risk["reserve_margin"] = reserve[p]
        if rng.random() < 0.4:
            usable = (1 - reserve[p]) * sum(
                unit_value[r] * u for r, per_phase in capacity[p].items() for u in per_phase.values()
            )
            if usable > 0:
                risk["max_exposure"] = _round_money(usable * rng.uniform(0.5, 0.9))
        if rng.random() < 0.15:
            risk["max_initiative_share"] = rng.choice([0.3, 0.4, 0.5, 0.6])
        if risk:
            partner_entry["risk"] = risk
        data_partners[name] = partner_entry

    data_initiatives: dict[str, Any] = {}
    for i, name in enumerate(initiative_names):
        plan = needs[i]
        cost = {t: sum(unit_value[r] * u for r, u in stage.items()) for t, stage in plan.items()}
        ratio = math.exp(rng.gauss(0.05, 0.35))
        total_value = ratio * sum(cost.values())
        weights = [(k + 1) ** 1.5 * rng.uniform(0.7, 1.3) for k in range(len(plan))]
        if len(plan) > 1 and rng.random() < 0.3:
            weights[0] = 0.0  # a pilot that earns nothing yet
        total_weight = sum(weights)
        phases_out: dict[str, Any] = {}
        for k, (t, stage) in enumerate(plan.items()):
            row: dict[str, Any] = {resource_specs[r][0]: u for r, u in stage.items()}
            row["value"] = _round_money(total_value * weights[k] / total_weight)
            phases_out[phase_names[t]] = row
        initiative_entry: dict[str, Any] = {}
        if rng.random() < 0.2:
            initiative_entry["gate"] = "adjustable"
            initiative_entry["min_scale"] = rng.choice([0.25, 0.4, 0.5, 0.6])
        if requires[i]:
            initiative_entry["requires"] = [initiative_names[j] for j in requires[i]]
        if requires_any[i]:
            initiative_entry["requires_any"] = [initiative_names[j] for j in requires_any[i]]
        if excludes[i]:
            initiative_entry["excludes"] = [initiative_names[j] for j in excludes[i]]
        consortium = consortia[i]
        if len(consortium) < partners:
            used = sorted({r for stage in plan.values() for r in stage})
            initiative_entry["eligible"] = {
                resource_specs[r][0]: [partner_names[p] for p in consortium if p in holders[r]] for r in used
            }
        if len(consortium) >= 2:
            draw = rng.random()
            if draw < 0.15:
                initiative_entry["benefit_share"] = _shares(rng, [partner_names[p] for p in consortium])
            elif draw < 0.25:
                initiative_entry["max_funders"] = rng.randint(1, len(consortium) - 1)
        initiative_entry["phases"] = phases_out
        data_initiatives[name] = initiative_entry

    # A few maximum commitments (met by contributing nothing), each on its own target and name.
    commitments: dict[str, dict[str, Any]] = {}
    for _ in range(min(12, initiatives // 40 + 1)):
        if rng.random() < 0.5:
            i = rng.randrange(initiatives)
            budget = sum(unit_value[r] * u for stage in needs[i].values() for r, u in stage.items())
            label = f"budget-{initiative_names[i]}"
            if budget > 0 and label not in commitments:
                cap = _round_money(budget * rng.uniform(0.6, 0.9))
                commitments[label] = {"name": label, "initiative": initiative_names[i], "max": cap}
        else:
            p = rng.randrange(partners)
            r = rng.choice(sorted(capacity[p]))
            t = rng.choice(sorted(capacity[p][r]))
            rname = resource_specs[r][0]
            units = _round_units(capacity[p][r][t] * rng.uniform(0.4, 0.8), unit_value[r], rname)
            label = f"cap-{partner_names[p]}-{rname}-{phase_names[t]}"
            if units > 0 and label not in commitments:
                commitments[label] = {"name": label, "partner": partner_names[p], "resource": rname,
                                      "phase": phase_names[t], "max": units}

    data: dict[str, Any] = {
        "name": f"generated-p{partners}-i{initiatives}-t{phases}-r{resources}-s{seed}",
        "currency": "USD",
        "resources": data_resources,
        "phases": phase_names,
        "partners": data_partners,
        "initiatives": data_initiatives,
    }
    if commitments:
        data["commitments"] = list(commitments.values())
    return data


def _shares(rng: random.Random, names: list[str]) -> dict[str, float]:
    """Contract shares for ``names``: multiples of 0.05, each at least 0.05, summing to exactly 1."""
    n, steps = len(names), 20
    if n > steps:  # too many for twentieths: equal shares
        equal = round(1 / n, 9)
        return {name: equal if k < n - 1 else 1 - equal * (n - 1) for k, name in enumerate(names)}
    bounds = [0, *sorted(rng.sample(range(1, steps), n - 1)), steps]
    return {name: (bounds[k + 1] - bounds[k]) / steps for k, name in enumerate(names)}


def count_entries(data: Any) -> int:
    """Entries as the reader counts them (:data:`allocopt.io.reading.MAX_NODES`): every mapping, list, key and value."""
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
    data: Mapping[str, Any], path: str | Path, *, params: Mapping[str, Any] | None = None
) -> Path:
    """Write instance data to ``path`` and return the path.

    JSON for a ``.json`` suffix; YAML, with a header comment, for ``.yaml`` or ``.yml``. ``params`` (e.g. the
    arguments given to :func:`generate_instance`) are recorded in the YAML header; without them the header
    records the sizes counted from the data.
    """
    from allocopt.io.files import write_atomic

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".json":
        write_atomic(out, json.dumps(data, indent=1) + "\n")
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
    write_atomic(out, header + _dump_yaml(data))
    return out
