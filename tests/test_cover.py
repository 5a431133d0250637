"""An initiative is one opportunity: groups of partners that work apart may not both run it (issue 19, item 9).

Oracle, worked by hand (``ONE``): two partners with 100 USD of capital each; one initiative needs 100 and creates
200, so either partner can run it alone (net 100), and the partnership runs it once (net 100). The grand
coalition's cover used to be 200 (alpha | beta, the opportunity run twice); it is 100. Each partner alone is worth
100, so no split of 100 gives both their claim: the core is empty, the least-core epsilon is 50 at 50/50, and the
two claims are named as counting the same initiative. With ``replicable: true`` the old answer returns (the cover
is 200 and the core is the single point 100/100).

The brute-force oracle shares no code with the cover: on tiny random partnerships without dependencies it solves
every group of partners restricted to every subset of the initiatives, and takes the best partition of a coalition
into groups with disjoint subsets (each group at least walking away). No realisable cover may exceed it.
"""

from __future__ import annotations

import copy
import itertools
import os
import random
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import allocopt
from allocopt.games.coalitions import coalition_game, coalition_instance, coalition_spec
from allocopt.games.cover import realisable_cover, superadditive_cover
from allocopt.games.game import Game
from allocopt.instance.generate import generate_instance
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import instance_from_dict

ONE: dict[str, Any] = {
    "name": "one-opportunity",
    "currency": "USD",
    "resources": {"capital": {"unit": "USD", "unit_value": 1}},
    "phases": ["run"],
    "partners": {"alpha": {"capacity": {"capital": 100}}, "beta": {"capacity": {"capital": 100}}},
    "initiatives": {"opportunity": {"phases": {"run": {"capital": 100, "value": 200}}}},
}


def one(replicable: bool | None = None) -> Any:
    data = copy.deepcopy(ONE)
    if replicable is not None:
        data["initiatives"]["opportunity"]["replicable"] = replicable
    return instance_from_dict(data)


# -- the hand-worked oracle -----------------------------------------------------------------------------------------
def test_one_opportunity_is_worth_100_to_the_partnership_not_200() -> None:
    answer = coalition_game(one())
    assert answer.plan_total == pytest.approx(100)
    assert answer.grand_value == pytest.approx(100)
    values = answer.values.set_index("coalition")
    assert values["cover"].tolist() == pytest.approx([100, 100, 100])
    assert values.loc["alpha", "needs"] == ["opportunity"]
    assert answer.cover_changes is not None and answer.cover_changes.empty
    assert answer.cover_conflicts is not None
    conflict = answer.cover_conflicts.iloc[0]
    assert (conflict["coalition"], conflict["split"], conflict["initiatives"]) == \
        ("alpha+beta", "alpha | beta", ["opportunity"])
    assert conflict["unrealisable"] == pytest.approx(200) and conflict["cover"] == pytest.approx(100)


def test_each_partner_can_take_the_opportunity_alone_so_the_core_is_empty_and_the_claims_are_named() -> None:
    answer = coalition_game(one())
    for concept in ("shapley", "nucleolus", "least_core"):
        assert answer.allocations[concept].tolist() == pytest.approx([50, 50]), concept
    # x_alpha >= 100, x_beta >= 100 and x_alpha + x_beta = 100 have no solution; the best split misses by 50 each
    assert answer.core_empty is True
    assert answer.least_core_epsilon == pytest.approx(50)
    contested = answer.contested.iloc[0]
    assert (contested["coalition"], contested["complement"], contested["initiatives"]) == \
        ("alpha", "beta", ["opportunity"])
    assert contested["together"] == pytest.approx(200) and contested["grand"] == pytest.approx(100)
    blocking = answer.blocking.set_index("coalition")
    assert blocking.loc["alpha", "shares_with"] == ["beta"] and blocking.loc["beta", "shares_with"] == ["alpha"]
    assert "which beta would need too: they cannot both leave with it" in blocking.loc["alpha", "text"]
    assert answer.payments.empty  # the plan's 50/50 is the Shapley split; solver noise is no payment


def test_a_replicable_initiative_brings_the_plain_cover_back() -> None:
    answer = coalition_game(one(replicable=True))
    assert answer.grand_value == pytest.approx(200)
    assert answer.cover_changes is not None
    assert answer.cover_changes[["coalition", "split"]].values.tolist() == [["alpha+beta", "alpha | beta"]]
    assert answer.cover_conflicts is not None and answer.cover_conflicts.empty
    assert answer.core_empty is False
    assert answer.allocations["core_min"].tolist() == pytest.approx([100, 100])
    assert answer.contested.empty
    assert answer.blocking["shares_with"].tolist() == [[], []]
    assert answer.values["needs"].tolist() == [[], [], []]


def test_replicable_is_read_written_and_refused_when_not_a_yes_or_no() -> None:
    assert one().initiatives["opportunity"].replicable is False
    assert one(True).model_dump(mode="json", exclude_unset=True)["initiatives"]["opportunity"]["replicable"] is True
    bad = copy.deepcopy(ONE)
    bad["initiatives"]["opportunity"]["replicable"] = "sometimes"
    with pytest.raises(allocopt.InputError, match="replicable"):
        instance_from_dict(bad)


def test_the_cli_table_names_the_split_not_counted_and_the_claims_counted_twice(tmp_path: Any) -> None:
    import yaml
    from click.testing import CliRunner

    from allocopt.cli.main import main

    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(ONE))
    out = CliRunner().invoke(main, ["coalitions", str(path)])
    assert out.exit_code == 0, out.output
    assert "v(N) = 100 USD" in out.output
    assert "alpha (100 USD) and beta (100 USD) both count opportunity" in out.output
    assert "alpha | beta" in out.output and "200 USD" in out.output


# -- the realisable cover on games given by hand ---------------------------------------------------------------------
def test_a_group_may_walk_away_to_leave_the_initiative_to_another() -> None:
    game = Game({"a": 10, "b": 8, "a+b": 12})
    cover = realisable_cover(game, {1: {"x"}, 2: {"x"}, 3: {"x"}}, {1: 0.0, 2: 5.0, 3: 5.0})
    assert cover.game.value("a+b") == pytest.approx(15)  # a runs x, b takes its stand-alone 5
    assert cover.changes["split"].tolist() == ["a | b (walks away)"]
    assert cover.needs[3] == ("x",)
    assert cover.conflicts["unrealisable"].tolist() == pytest.approx([18])


def test_a_split_worth_less_is_kept_when_it_needs_fewer_initiatives() -> None:
    # a+b is worth 20 with x, or 18 split (neither group needs anything); c is worth 10 with x. The best of a+b+c
    # is a | b | c (28): it needs a+b's second-best way of acting.
    game = Game({"a": 9, "b": 9, "a+b": 20, "c": 10, "a+c": 10, "b+c": 10, "a+b+c": 25})
    needs = {3: {"x"}, 4: {"x"}, 5: {"x"}, 6: {"x"}, 7: {"x"}}
    cover = realisable_cover(game, needs)
    assert cover.game.value("a+b") == pytest.approx(20)
    assert cover.game.value("a+b+c") == pytest.approx(28)
    row = cover.changes.set_index("coalition").loc["a+b+c"]
    assert row["split"] == "a | b | c"
    assert cover.conflicts.set_index("coalition").loc["a+b+c", "unrealisable"] == pytest.approx(30)


def test_without_exclusive_initiatives_the_realisable_cover_is_the_plain_one() -> None:
    game = Game({"a": 3, "b": 2, "a+b": 4, "c": 1, "a+c": 3, "b+c": 5, "a+b+c": 6})
    plain, realisable = superadditive_cover(game), realisable_cover(game, {})
    assert list(realisable.game.worth) == list(plain.game.worth)
    assert realisable.changes.equals(plain.changes)


# -- brute force on tiny random partnerships ---------------------------------------------------------------------------
EXAMPLES = int(os.environ.get("ALLOCOPT_BRUTE_EXAMPLES", "8"))


def tiny_partnership(seed: int, replicable: bool = False) -> dict[str, Any]:
    """Two or three partners, two or three initiatives each of which one partner may fund alone; no dependencies,
    mandatory initiatives or commitments (so that a partnership restricted to some initiatives is still valid)."""
    rnd = random.Random(seed)
    partners = {f"P{k}": {"capacity": {"capital": rnd.choice([0, 50, 100, 150])},
                          "stand_alone": rnd.choice([0, 0, 0, 20, 60])} for k in range(rnd.randint(2, 3))}
    initiatives: dict[str, Any] = {}
    for k in range(rnd.randint(2, 3)):
        stage = {"capital": rnd.choice([30, 60, 100]), "value": rnd.choice([0, 50, 120, 200, 260])}
        initiatives[f"I{k}"] = {"phases": {"run": stage}}
        if replicable:
            initiatives[f"I{k}"]["replicable"] = True
        if rnd.random() < 0.3:
            initiatives[f"I{k}"]["gate"], initiatives[f"I{k}"]["min_scale"] = "adjustable", 0.5
    return {"name": f"tiny-{seed}", "currency": "USD", "resources": {"capital": {"unit": "USD", "unit_value": 1}},
            "phases": ["run"], "partners": partners, "initiatives": initiatives}


def _partitions(items: list[str]) -> Iterator[list[list[str]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in _partitions(rest):
        for k in range(len(smaller)):
            yield smaller[:k] + [[first] + smaller[k]] + smaller[k + 1:]
        yield [[first]] + smaller


def joint_values(data: dict[str, Any]) -> dict[frozenset[str], float]:
    """Every coalition's best realisable split: a partition into groups and a disjoint share of the initiatives
    per group (each group solved cold on its share, at least walking away)."""
    spec = coalition_spec(ModelSpec())
    names = list(data["initiatives"])

    @cache
    def worth(group: frozenset[str], share: frozenset[str]) -> float:
        alone = float(sum(data["partners"][p].get("stand_alone", 0) for p in group))
        if not share:
            return alone
        reduced = copy.deepcopy(data)
        reduced["initiatives"] = {i: data["initiatives"][i] for i in names if i in share}
        result = allocopt.solve(coalition_instance(instance_from_dict(reduced), sorted(group)), spec)
        return max(result.objective, alone) if result.status.has_plan else alone

    best: dict[frozenset[str], float] = {}
    players = list(data["partners"])
    for size in range(1, len(players) + 1):
        for members in itertools.combinations(players, size):
            top = -float("inf")
            for partition in _partitions(list(members)):
                for owner in itertools.product(range(len(partition) + 1), repeat=len(names)):
                    shares = [frozenset(i for i, o in zip(names, owner, strict=True) if o == k)
                              for k in range(len(partition))]
                    top = max(top, sum(worth(frozenset(g), s) for g, s in zip(partition, shares, strict=True)))
            best[frozenset(members)] = top
    return best


def test_a_coalition_solved_from_a_start_is_worth_its_own_plan() -> None:
    """tiny_partnership(131): P2 alone (100 USD of capital, nothing stand-alone) funds I2 (100 USD for 260): 160.
    HiGHS 1.16's presolve, given the participation stage's plan (nothing runs) as a start, answered "optimal 160"
    and handed back that start, worth 0; a plan that is not worth its reported objective is solved again without
    presolve."""
    answer = coalition_game(instance_from_dict(tiny_partnership(131)), concepts=["shapley"])
    values = answer.values.set_index("coalition")
    assert values.loc["P2", "value"] == pytest.approx(160.0)
    assert values.loc["P1+P2", "solved"] == pytest.approx(160.0)
    assert values.loc["P1+P2", "value"] == pytest.approx(160.0)  # above P1's 20 stand-alone: no walk-away
    joint = joint_values(tiny_partnership(131))
    assert joint[frozenset({"P2"})] == pytest.approx(160.0)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
@example(131)  # HiGHS handed back a start's plan with another plan's objective (see the test above)
def test_no_cover_exceeds_what_one_joint_plan_realises(seed: int) -> None:
    data = tiny_partnership(seed)
    answer = coalition_game(instance_from_dict(data), concepts=["shapley"])
    joint = joint_values(data)
    game = Game.from_masks(answer.partners, dict(enumerate(answer.values["value"].astype(float), start=1)))
    plain = superadditive_cover(game).game.worth
    for mask, (_, row) in enumerate(answer.values.iterrows(), start=1):
        realised = joint[frozenset(row["members"])]
        assert row["value"] <= row["cover"] + 1e-6
        assert row["cover"] <= realised + 1e-6 * max(1.0, abs(realised)), (seed, row["coalition"])
        assert realised <= plain[mask] + 1e-6 * max(1.0, abs(realised)), (seed, row["coalition"])
    assert answer.grand_value <= joint[frozenset(data["partners"])] + 1e-6


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_with_every_initiative_replicable_the_cover_is_the_plain_superadditive_cover(seed: int) -> None:
    answer = coalition_game(instance_from_dict(tiny_partnership(seed, replicable=True)), concepts=["shapley"])
    game = Game.from_masks(answer.partners, dict(enumerate(answer.values["value"].astype(float), start=1)))
    assert answer.values["cover"].tolist() == pytest.approx(list(superadditive_cover(game).game.worth[1:]))
    assert answer.cover_conflicts is not None and answer.cover_conflicts.empty


# -- generated partnerships: the cover is never above the plan proven optimal ----------------------------------------
def _grand_against_plan(partners: int, initiatives: int, phases: int, seed: int) -> tuple[float, float, float]:
    inst = instance_from_dict(generate_instance(partners, initiatives, phases, 2, seed))
    answer = coalition_game(inst, concepts=["shapley"])
    assert answer.plan_status == "optimal"
    worth = dict(enumerate(answer.values["value"].astype(float), start=1))
    plain = float(superadditive_cover(Game.from_masks(answer.partners, worth)).game.worth[-1])
    assert answer.plan_total is not None
    return answer.grand_value, answer.plan_total, plain


def test_a_generated_partnership_is_worth_its_proven_plan() -> None:
    # generate --partners 4 --initiatives 10 --phases 2 --resources 2 --seed 1: the groups partner-01+partner-03 and
    # partner-02+partner-04 each count initiatives the other runs; run twice, the cover was 1,104,200 USD
    grand, plan, plain = _grand_against_plan(4, 10, 2, 1)
    assert plan == pytest.approx(684_100, rel=1e-6)
    assert grand == pytest.approx(plan, rel=1e-6)
    assert plain == pytest.approx(1_104_200, rel=1e-6)


@pytest.mark.skipif(not os.environ.get("ALLOCOPT_SLOW"), reason="about 10 s of coalition solves: set ALLOCOPT_SLOW=1")
def test_the_issue_s_generated_partnership_is_worth_its_proven_plan() -> None:
    # generate --partners 5 --initiatives 50 --phases 4 --resources 2 --seed 1 (issue 19): 6,722,385 USD before
    grand, plan, plain = _grand_against_plan(5, 50, 4, 1)
    assert plan == pytest.approx(5_644_599, abs=1)
    assert grand <= plan * (1 + 1e-6)
    assert plain == pytest.approx(6_722_385, abs=1)
