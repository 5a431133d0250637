"""Coalition values by re-solving the partnership (issue 8), and the `allocopt coalitions` command.

The rules about outsiders are checked on a hand-made partnership (``RULES``): three partners with 100 EUR of capital
each; ``solo`` needs 80 (value 200), ``big`` needs 150 and is mandatory, ``only-c`` may be funded by c alone, and
``shared`` has its value split by contract 25/75 between a and c. A commitment names c, another names no partner.
The oracle for the values is a separate cold solve of the reduced partnership.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import allocopt
from allocopt.cli.main import EXIT_USAGE, main
from allocopt.errors import InputError
from allocopt.games.coalitions import coalition_game, coalition_instance, coalition_spec, coalition_values
from allocopt.instance.generate import generate_instance
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, instance_from_dict
from allocopt.model import build_data
from allocopt.solver.specs import model_spec_from_dict
from conftest import needs_extra

RULES: dict[str, Any] = {
    "name": "rules",
    "currency": "EUR",
    "resources": {"capital": {"unit": "EUR", "unit_value": 1}},
    "phases": ["p1"],
    "partners": {
        "a": {"capacity": {"capital": 100}, "stand_alone": 5, "weight": 2},
        "b": {"capacity": {"capital": 100}, "stand_alone": 7},
        "c": {"capacity": {"capital": 100}},
    },
    "initiatives": {
        "solo": {"phases": {"p1": {"capital": 80, "value": 200}}},
        "big": {"phases": {"p1": {"capital": 150, "value": 400}}, "mandatory": True},
        "only-c": {"phases": {"p1": {"capital": 50, "value": 150}}, "eligible": {"capital": ["c"]}},
        "shared": {"phases": {"p1": {"capital": 10, "value": 100}}, "benefit_share": {"a": 0.25, "c": 0.75}},
    },
    "commitments": [{"name": "c-min", "partner": "c", "min": 20}, {"name": "all-max", "max": 1000}],
}


def rules() -> Instance:
    return instance_from_dict(copy.deepcopy(RULES))


def generated(seed: int, partners: int = 3) -> Instance:
    return instance_from_dict(generate_instance(partners, 5, 2, 2, seed))


# -- the rules about outsiders --------------------------------------------------------------------------------------
def test_outsiders_are_removed_with_their_stand_alone_values_and_weights_become_one() -> None:
    reduced = coalition_instance(rules(), ["b", "a"])
    assert list(reduced.partners) == ["a", "b"]  # the instance's order
    assert all(p.weight == 1.0 for p in reduced.partners.values())
    assert sum(p.stand_alone for p in reduced.partners.values()) == 12


def test_commitments_naming_an_outsider_drop_and_partnership_wide_ones_stay() -> None:
    assert [c.name for c in coalition_instance(rules(), ["a", "b"]).commitments] == ["all-max"]
    assert [c.name for c in coalition_instance(rules(), ["c"]).commitments] == ["c-min", "all-max"]


def test_a_mandatory_initiative_binds_only_a_coalition_that_can_run_it() -> None:
    assert coalition_instance(rules(), ["a", "b"]).initiatives["big"].mandatory  # 200 >= 150
    assert not coalition_instance(rules(), ["a"]).initiatives["big"].mandatory  # 100 < 150
    assert coalition_instance(rules(), ["a", "b", "c"]).initiatives["big"].mandatory


def test_eligibility_limited_to_outsiders_removes_that_supply() -> None:
    reduced = coalition_instance(rules(), ["a", "b"])
    assert reduced.initiatives["only-c"].eligible == {"capital": []}
    data = build_data(reduced, ModelSpec())
    assert not [arc for arc in data.SUPPLY if arc[1] == "only-c"]
    assert coalition_instance(rules(), ["a", "c"]).initiatives["only-c"].eligible == {"capital": ["c"]}


def test_outsiders_fixed_benefit_shares_are_value_lost() -> None:
    with_a = coalition_instance(rules(), ["a", "b"]).initiatives["shared"]
    assert with_a.benefit_share == {"a": 1.0}
    assert with_a.phases["p1"].value == pytest.approx(25.0)  # a keeps exactly its 25% of 100
    without = coalition_instance(rules(), ["b"]).initiatives["shared"]
    assert without.phases["p1"].value == 0.0 and without.benefit_share == {"b": 1.0}
    grand = coalition_instance(rules(), ["a", "b", "c"]).initiatives["shared"]
    assert grand.phases["p1"].value == 100.0 and grand.benefit_share == {"a": 0.25, "c": 0.75}


def test_in_place_only_where_outsiders_value_is_surely_zero() -> None:
    from allocopt.games.coalitions import in_place_obstacle

    inst, spec = rules(), ModelSpec()
    assert in_place_obstacle(inst, spec, ["a", "b"]) == "weights other than 1"
    data = copy.deepcopy(RULES)
    data["partners"]["a"]["weight"] = 1
    inst = instance_from_dict(data)
    assert "outsider's fixed share of shared" in str(in_place_obstacle(inst, spec, ["a", "b"]))
    assert in_place_obstacle(inst, spec, ["a", "b", "c"]) is None
    del data["initiatives"]["shared"]
    inst = instance_from_dict(data)
    assert in_place_obstacle(inst, spec, ["a", "c"]) is None  # big stays mandatory: 200 >= 150
    assert "mandatory big" in str(in_place_obstacle(inst, spec, ["c"]))
    loose = spec.model_copy(update={"rules": spec.rules.model_copy(update={
        "no_subsidy": spec.rules.no_subsidy.model_copy(update={"tolerance": 0.1})})})
    assert "tolerance" in str(in_place_obstacle(inst, loose, ["a", "b", "c"]))


def test_unknown_or_no_members_are_input_errors() -> None:
    with pytest.raises(InputError, match="not in the partnership"):
        coalition_instance(rules(), ["a", "zed"])
    with pytest.raises(InputError, match="empty"):
        coalition_instance(rules(), [])


def test_hand_values_and_the_walk_away_flag() -> None:
    values = coalition_values(rules()).set_index("coalition")
    # a alone: 100 of capital; solo (net 120) fits, big is optional for it, shared gives a only 25 (net 15).
    assert values.loc["a", "value"] == pytest.approx(135.0)
    assert not values.loc["a", "walk_away"]
    # b alone: solo (net 120) only; shared is worth nothing to it.
    assert values.loc["b", "value"] == pytest.approx(120.0)
    # c alone (c-min holds: it puts in 20 or more): solo (net 120) and shared (75 - 10 = 65) in 90 of capital
    # beat only-c and shared (100 + 65); solo and only-c need 130.
    assert values.loc["c", "value"] == pytest.approx(185.0)
    rich = copy.deepcopy(RULES)
    rich["partners"]["b"]["stand_alone"] = 1000
    values = coalition_values(instance_from_dict(rich)).set_index("coalition")
    assert values.loc["b", "walk_away"] and values.loc["b", "value"] == 1000
    assert values.loc["b", "solved"] == pytest.approx(120.0)


# -- values against cold solves, and wherever they ran -------------------------------------------------------------
@pytest.mark.parametrize(("seed", "partners"), [(0, 3), (1, 3), (2, 3), (3, 4)])
def test_every_coalition_value_equals_a_cold_solve_of_the_reduced_partnership(seed: int, partners: int) -> None:
    inst = generated(seed, partners)
    spec = ModelSpec()
    values = coalition_values(inst, spec)
    assert len(values) == 2**partners - 1
    if partners == 4:  # no fixed shares nor mandatory initiatives here: every coalition is solved in place
        assert (values["how"] == "in place").all()
    for _, row in values.iterrows():
        cold = allocopt.solve(coalition_instance(inst, row["members"]), coalition_spec(spec))
        alone = sum(inst.partners[p].stand_alone for p in row["members"])
        expected = max(cold.objective, alone) if cold.status.has_plan else alone
        assert row["value"] == pytest.approx(expected, rel=1e-6, abs=1e-6), row["coalition"]
        assert row["walk_away"] == (not cold.status.has_plan or cold.objective < alone)


def test_in_place_values_with_outsiders_commitments_and_participation_equal_cold_solves() -> None:
    data = copy.deepcopy(RULES)
    data["partners"]["a"]["weight"] = 1
    del data["initiatives"]["shared"]
    inst = instance_from_dict(data)
    spec = model_spec_from_dict({"rules": {"participation": {"enabled": True}}})
    values = coalition_values(inst, spec)
    # alone, nobody can run big (150 of capital): it turns optional, and that rebuilds
    assert values.set_index("coalition")["how"].to_dict() == {
        "a": "rebuilt", "b": "rebuilt", "a+b": "in place", "c": "rebuilt", "a+c": "in place", "b+c": "in place",
        "a+b+c": "in place"}
    for _, row in values.iterrows():
        cold = allocopt.solve(coalition_instance(inst, row["members"]), coalition_spec(spec))
        alone = sum(inst.partners[p].stand_alone for p in row["members"])
        expected = max(cold.objective, alone) if cold.status.has_plan else alone
        assert row["value"] == pytest.approx(expected, rel=1e-6, abs=1e-6), row["coalition"]


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.attrs = {}
    return out


def test_values_are_identical_serially_on_two_processes_and_on_dask() -> None:
    inst = generated(3)
    serial = coalition_values(inst)
    two = coalition_values(inst, workers=2)
    pd.testing.assert_frame_equal(_plain(serial), _plain(two), check_exact=True)
    assert two.attrs["solves"] == 7 and two.attrs["in_place"] + two.attrs["rebuilds"] <= 7
    distributed = needs_extra("dask")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=":0") as cluster:
        on_dask = coalition_values(inst, dask=cluster)
    pd.testing.assert_frame_equal(_plain(serial), _plain(on_dask), check_exact=True)


# -- concepts, stability, side payments, sampling -------------------------------------------------------------------
TWO: dict[str, Any] = {
    "name": "two",
    "currency": "EUR",
    "resources": {"capital": {"unit": "EUR", "unit_value": 1}, "talent": {"unit": "FTE", "unit_value": 10}},
    "phases": ["p1"],
    "partners": {"x": {"capacity": {"capital": 100}, "stand_alone": 20},
                 "y": {"capacity": {"talent": 10}, "stand_alone": 30}},
    "initiatives": {"joint": {"phases": {"p1": {"capital": 100, "talent": 10, "value": 500}}}},
}


def test_two_partners_shapley_is_stand_alone_plus_half_the_surplus() -> None:
    answer = coalition_game(instance_from_dict(copy.deepcopy(TWO)))
    grand = 500 - 100 - 100
    surplus = grand - 20 - 30
    assert answer.grand_value == pytest.approx(grand)
    assert answer.allocations.loc["x", "shapley"] == pytest.approx(20 + surplus / 2)
    assert answer.allocations.loc["y", "shapley"] == pytest.approx(30 + surplus / 2)
    assert answer.allocations.loc["x", "nucleolus"] == pytest.approx(20 + surplus / 2)
    assert answer.values.set_index("coalition")["walk_away"].to_dict() == {"x": True, "y": True, "x+y": False}
    assert answer.core_empty is False
    assert answer.allocations["plan"].sum() == pytest.approx(grand)
    paid = answer.payments["amount"].sum() if not answer.payments.empty else 0.0
    gap = (answer.allocations["plan"] - answer.allocations["shapley"]).abs().sum() / 2
    assert paid == pytest.approx(gap, abs=1e-6)


def test_stability_names_the_coalitions_that_would_leave_in_partnership_words() -> None:
    data = copy.deepcopy(TWO)
    data["partners"]["x"]["stand_alone"] = 250  # x walks away with more than the plan can give it
    data["partners"]["y"]["stand_alone"] = 0
    answer = coalition_game(instance_from_dict(data), concepts=["shapley"])
    assert answer.blocking["coalition"].tolist() == ["x"]
    assert answer.blocking["text"].iloc[0].startswith("x alone could earn ")
    assert "without y" in answer.blocking["text"].iloc[0]


def test_sampled_shapley_falls_within_its_interval_of_the_exact_value_in_most_runs() -> None:
    inst = generated(4, partners=4)
    exact = coalition_game(inst, concepts=["shapley"]).allocations["shapley"]
    inside = total = 0
    for seed in range(8):
        sampled = coalition_game(inst, concepts=["shapley"], samples=12, seed=seed)
        assert sampled.method == "sampled" and sampled.samples == 12
        table = sampled.allocations
        for p in exact.index:
            total += 1
            inside += table.loc[p, "ci_low"] - 1e-6 <= exact[p] <= table.loc[p, "ci_high"] + 1e-6
        assert math.isclose(table["shapley"].sum(), sampled.grand_value, rel_tol=1e-9, abs_tol=1e-6)
    assert inside >= 0.75 * total


def test_bad_concepts_and_samples_are_refused() -> None:
    with pytest.raises(InputError, match="not a solution concept"):
        coalition_game(rules(), concepts=["shapley", "fairest"])
    with pytest.raises(InputError, match="at least 2"):
        coalition_values(rules(), samples=1)


# -- the command -------------------------------------------------------------------------------------------------
@pytest.fixture()
def two_file(tmp_path: Any) -> Any:
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(TWO))
    return path


def test_cli_table(two_file: Any) -> None:
    out = CliRunner().invoke(main, ["coalitions", str(two_file)])
    assert out.exit_code == 0, out.output
    assert "all 3 coalitions solved" in out.output
    assert "What each partner brings" in out.output
    assert "145 EUR" in out.output and "155 EUR" in out.output  # Shapley of x and y
    assert "walk-away" in out.output


def test_cli_json_and_csv(two_file: Any) -> None:
    out = CliRunner().invoke(main, ["coalitions", str(two_file), "--format", "json", "--concepts", "shapley"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [v["coalition"] for v in data["values"]] == ["x", "y", "x+y"]
    assert data["method"] == "exact" and data["solves"] == 3
    assert {a["partner"]: a["shapley"] for a in data["allocations"]} == pytest.approx({"x": 145.0, "y": 155.0})
    out = CliRunner().invoke(main, ["coalitions", str(two_file), "--format", "csv"])
    assert out.exit_code == 0 and out.output.startswith("# coalitions\n")


@pytest.mark.parametrize("command", [["validate"], ["solve"], ["coalitions"]])
def test_a_partner_id_holding_a_plus_is_refused_when_the_instance_is_read(tmp_path: Any, command: list[str]) -> None:
    """Before: the plan solved, but 'coalitions' and 'report --coalitions' ended in exit 3 with
    "<game>: players[0]: 'x+z' holds '+'", naming no file (and only after solving every coalition)."""
    path = tmp_path / "plus.yaml"
    data = copy.deepcopy(TWO)
    data["partners"]["x+z"] = data["partners"].pop("x")
    path.write_text(yaml.safe_dump(data))
    out = CliRunner().invoke(main, [*command, str(path)])
    assert out.exit_code == 3, out.output
    assert f"{path}:" in out.stderr and "partners.x+z: partner id 'x+z' holds '+', which joins partners' names in " \
        "coalitions" in out.stderr and "rename the partner, e.g. 'x-z'" in out.stderr
    assert "<game>" not in out.stderr


def test_cli_usage_errors(two_file: Any) -> None:
    out = CliRunner().invoke(main, ["coalitions", str(two_file), "--concepts", "shapley,fairest"])
    assert out.exit_code == EXIT_USAGE and "fairest" in out.output
    out = CliRunner().invoke(main, ["coalitions", str(two_file), "--workers", "2", "--dask", "tcp://nowhere:1"])
    assert out.exit_code == EXIT_USAGE


def test_cli_values_equal_cold_solves_and_do_not_depend_on_the_workers(tmp_path: Any) -> None:
    inst = generated(1)
    path = tmp_path / "generated.yaml"
    path.write_text(yaml.safe_dump(inst.model_dump(mode="json", exclude_unset=True)))
    runs = {}
    for workers in ("1", "2"):
        out = CliRunner().invoke(main, ["coalitions", str(path), "--format", "json", "--concepts", "shapley",
                                        "--workers", workers])
        assert out.exit_code == 0, out.output
        runs[workers] = json.loads(out.output)["values"]
    assert runs["1"] == runs["2"]
    for row in runs["1"]:
        cold = allocopt.solve(coalition_instance(inst, row["members"]), coalition_spec(ModelSpec()))
        alone = sum(inst.partners[p].stand_alone for p in row["members"])
        expected = max(cold.objective, alone) if cold.status.has_plan else alone
        assert row["value"] == pytest.approx(expected, rel=1e-6, abs=1e-6), row["coalition"]


def test_cli_sampled(two_file: Any) -> None:
    out = CliRunner().invoke(main, ["coalitions", str(two_file), "--samples", "6", "--seed", "3"])
    assert out.exit_code == 0, out.output
    assert "Shapley value sampled from 6 orders of joining" in out.output
    assert "95% CI low" in out.output


# -- --dask aimed at something that is not a Dask scheduler ---------------------------------------------------------


@pytest.fixture(scope="module")
def impostor() -> Any:
    """A plain TCP server on loopback that greets every connection with ``server.greeting`` (or with nothing);
    each test sets the greeting it needs."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    class Server:
        greeting = b""
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)
            with contextlib.suppress(OSError):
                connection.sendall(Server.greeting)

    threading.Thread(target=serve, daemon=True).start()
    yield Server
    listener.close()
    for connection in held:
        connection.close()


@pytest.mark.parametrize("greeting", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"\xff" * 8 + b"x" * 100,
                                      b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 16, b"SSH-2.0-OpenSSH_9.6\r\n"])
def test_dask_at_an_address_where_something_else_answers_exits_3_naming_it(two_file: Any, impostor: Any,
                                                                            greeting: bytes) -> None:
    """Before: distributed trusted the first 8 bytes as a length (numpy tried to allocate 3.07 EiB): a traceback,
    exit 1."""
    needs_extra("dask")
    impostor.greeting = greeting
    out = CliRunner().invoke(main, ["coalitions", str(two_file), "--dask", impostor.address])
    assert out.exit_code == 3, out.output
    assert f"cannot use the Dask cluster at {impostor.address}: what answers there is not a Dask scheduler" in \
        out.stderr and "Traceback" not in out.output


def test_dask_at_a_silent_address_gives_up_in_time(impostor: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a server that accepted the connection and said nothing kept distributed waiting for ever."""
    needs_extra("dask")
    from allocopt.errors import ExecutorError
    from allocopt.solver import executor

    monkeypatch.setattr(executor, "CONNECT_TIMEOUT_S", 0.3)
    impostor.greeting = b""
    with pytest.raises(ExecutorError, match=f"at {impostor.address}: no Dask scheduler answered within 0.3 s"):
        executor.run_tasks(abs, [-1], dask=impostor.address)


def test_dask_addresses_that_are_no_addresses_are_usage_errors(two_file: Any) -> None:
    needs_extra("dask")
    for address in ("tcp://127.0.0.1:port", "tcp://[::1"):
        out = CliRunner().invoke(main, ["coalitions", str(two_file), "--dask", address])
        assert out.exit_code == EXIT_USAGE and f"--dask {address}: not the address of a Dask scheduler" in out.stderr


def test_a_real_scheduler_passes_the_greeting_check() -> None:
    distributed = needs_extra("dask")
    from allocopt.solver.executor import run_tasks

    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None,
                                  protocol="tcp") as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        assert run_tasks(abs, [-1, 2, -3], dask=cluster.scheduler_address) == [1, 2, 3]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(greeting=st.binary(max_size=80))
def test_whatever_answers_at_a_dask_address_ends_in_a_message_within_the_timeout(
        impostor: Any, monkeypatch: pytest.MonkeyPatch, greeting: bytes) -> None:
    needs_extra("dask")
    import time

    from allocopt.errors import ExecutorError
    from allocopt.solver import executor

    monkeypatch.setattr(executor, "CONNECT_TIMEOUT_S", 0.3)
    impostor.greeting = greeting
    started = time.monotonic()
    with pytest.raises(ExecutorError, match=f"at {impostor.address}: "):
        executor.run_tasks(abs, [-1], dask=impostor.address)
    assert time.monotonic() - started < 5
