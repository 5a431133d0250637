"""``allocopt game`` through click's CliRunner: the printed concepts, the formats, allocations, and the exit codes
and messages for bad files."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocopt.cli.main import EXIT_INPUT, EXIT_USAGE, main

GLOVE_YAML = """\
players: [left, right1, right2]
kind: value
values:
  left: 0
  right1: 0
  right2: 0
  left+right1: 1
  left+right2: 1
  right1+right2: 0
  left+right1+right2: 1
"""

MAJORITY_JSON = {
    "players": ["a", "b", "c"],
    "values": [{"coalition": c, "value": 1 if len(c) >= 2 else 0}
               for c in (["a"], ["b"], ["c"], ["a", "b"], ["a", "c"], ["b", "c"], ["a", "b", "c"])],
}

CLOUD_CSV = """\
# what each group of firms pays for a shared cloud contract
coalition,value
acme,10
globex,8
initech,6
acme globex,15
acme+initech,14
globex + initech,12
acme globex initech,19
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_glove_table(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["game", write(tmp_path, "glove.yaml", GLOVE_YAML)])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Shapley" in out and "nucleolus" in out and "core min" in out and "least core" in out
    left = next(line for line in out.splitlines() if line.startswith("left"))
    assert left.split()[1:] == ["0.6667", "0.6", "0.75", "1", "1", "1", "1"]
    assert "Core: not empty" in out
    assert "Superadditive: no coalition does better" in out


def test_majority_json(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["game", write(tmp_path, "maj.json", json.dumps(MAJORITY_JSON)), "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["core_empty"] is True
    assert data["least_core_epsilon"] == pytest.approx(1 / 3)
    assert data["allocations"]["shapley"]["a"] == pytest.approx(1 / 3)
    assert data["allocations"]["core_min"]["a"] is None


def test_cost_csv_with_an_allocation(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "cloud.csv", CLOUD_CSV)
    res = runner.invoke(main, ["game", path, "--kind", "cost", "--allocation", "acme=10,globex=3,initech=6"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Cooperative cost game: 3 players, c(N) = 19." in out
    assert "in the core: no" in out
    assert "acme+initech" in out and "overcharge" in out
    assert "Side payments that turn it into the nucleolus" in out
    payments = out.split("Side payments")[1]
    assert "globex" in payments and "acme" in payments


def test_allocation_from_a_file_and_csv_output(runner: CliRunner, tmp_path: Path) -> None:
    game = write(tmp_path, "glove.yaml", GLOVE_YAML)
    given = write(tmp_path, "split.yaml", "left: 0.5\nright1: 0.25\nright2: 0.25\n")
    res = runner.invoke(main, ["game", game, "--allocation", given, "--format", "csv", "--concepts", "shapley",
                               "--target", "shapley"])
    assert res.exit_code == 0, res.output
    sections = res.stdout.split("# ")
    assert sections[1].startswith("allocations\nplayer,shapley,given\n")
    assert "blocking\ncoalition,value,allocated,gain\nleft+right1,1.0,0.75,0.25" in res.stdout
    assert "side_payments\npayer,receiver,amount\n" in res.stdout


def test_markdown_shows_the_superadditive_cover(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "split.yaml", "values:\n  a: 3\n  b: 2\n  a+b: 4\n")
    res = runner.invoke(main, ["game", path, "--format", "markdown", "--concepts", "shapley"])
    assert res.exit_code == 0, res.output
    assert "| a+b" in res.stdout and "a | b" in res.stdout
    assert "Not superadditive: 1 coalition is worth more split" in res.stdout
    assert "grand coalition is worth more split into smaller groups" in res.stdout


@pytest.mark.parametrize("name, text, expected", [
    ("unknown.yaml", "players: [a, b]\nvalues:\n  a: 1\n  b: 1\n  a+c: 2\n",
     ":5: values.a+c: names 'c', who is not a player"),
    ("text.yaml", "values:\n  - {coalition: [a], value: 1}\n  - {coalition: [b], value: one}\n"
                  "  - {coalition: [a, b], value: 3}\n", ":3: values[1].value: is the text 'one', not a number"),
    ("missing.yaml", "values:\n  a: 1\n  b: 1\n  c: 1\n", "no value for 4 of the 7 coalitions: a+b, a+c, b+c"),
    ("empty.yaml", "values:\n  '': 2\n  a: 1\n", "the empty coalition is worth 0"),
    ("kind.yaml", "kind: profit\nvalues:\n  a: 1\n", ":1: kind: is 'profit', not a kind of game (use value or cost)"),
    ("field.yaml", "value:\n  a: 1\n", "value: is not a field of a game"),
    ("syntax.yaml", "values: [a, b\n", "is not valid YAML"),
    ("bad.csv", "coalition,value\na,1\nb,2\na+b,lots\n", "bad.csv:4: coalition a+b: is the text 'lots'"),
    ("header.csv", "members,worth\na,1\n", ":1: header: is 'members,worth'"),
    ("short.csv", "coalition,value\na\n", ":2: row: has 1 column"),
    ("long.csv", "coalition,value\na,1\nb,2\n" + "a+b" + " " * 140_000 + ",3\n",
     "long.csv:4: row: holds a field longer than 131,072 characters"),  # was a _csv.Error traceback, exit 1
    ("huge.csv", "coalition,value\na,1e308\nb,1e308\na+b,1e308\n",
     "huge.csv:4: coalition a+b: is 1e+308: sums of values this large overflow"),  # was exit 1, 'a bug'
    ("huge.yaml", "values:\n  a: 1\n  b: -1.7e308\n  a+b: 2\n", "huge.yaml:3: values.b: is -1.7e+308: sums of"),
])
def test_bad_files_exit_3_naming_file_line_field_and_fix(runner: CliRunner, tmp_path: Path, name: str, text: str,
                                                         expected: str) -> None:
    path = write(tmp_path, name, text)
    res = runner.invoke(main, ["game", path])
    assert res.exit_code == EXIT_INPUT, res.output
    assert name in res.stderr and expected in res.stderr
    assert "Traceback" not in res.output


def test_missing_file_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["game", str(tmp_path / "nowhere.yaml")])
    assert res.exit_code == EXIT_INPUT
    assert "not found" in res.stderr


def test_kind_option_must_agree_with_the_file(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["game", write(tmp_path, "glove.yaml", GLOVE_YAML), "--kind", "cost"])
    assert res.exit_code == EXIT_INPUT
    assert "kind: is 'value', but 'cost' was asked for" in res.stderr


def test_unknown_concept_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["game", write(tmp_path, "glove.yaml", GLOVE_YAML), "--concepts", "shapley,kernel"])
    assert res.exit_code == EXIT_USAGE
    assert "kernel" in res.stderr


@pytest.mark.parametrize("allocation, expected", [
    ("left=1,right1=0,bob=0", "bob: is not a player"),
    ("left=1,right1=0", "right2: has no amount"),
    ("left=1,right1=x,right2=0", "right1: is 'x', not a number"),
    ("left 1", "'left' is not player=amount"),
])
def test_bad_allocations_written_inline_are_usage_errors(runner: CliRunner, tmp_path: Path, allocation: str,
                                                         expected: str) -> None:
    """An allocation written inline is the value of --allocation: its problems are a usage error (2); a file's
    are invalid input (3)."""
    res = runner.invoke(main, ["game", write(tmp_path, "glove.yaml", GLOVE_YAML), "--allocation", allocation])
    assert res.exit_code == EXIT_USAGE, res.output
    assert "Invalid value for --allocation" in res.stderr and expected in res.stderr
    given = write(tmp_path, "given.yaml", "".join(f"{part.replace('=', ': ')}\n" for part in allocation.split(",")))
    res = runner.invoke(main, ["game", write(tmp_path, "glove.yaml", GLOVE_YAML), "--allocation", given])
    assert res.exit_code == EXIT_INPUT and "given.yaml" in res.stderr, res.output


def test_an_inefficient_allocation_gets_no_side_payments(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["game", write(tmp_path, "glove.yaml", GLOVE_YAML), "--allocation",
                               "left=1,right1=1,right2=1"])
    assert res.exit_code == 0, res.output
    assert "hands out 3 of v(N) = 1 (NOT efficient)" in res.stdout
    assert "No side payments" in res.stdout


# -- whatever a game file holds, a message and exit 3 (or a game), never a traceback

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=True),
                     st.text(alphabet="ab+ {}", max_size=4))
_DATA = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(alphabet="ab+", max_size=3), inner,
                                                                        max_size=4)), max_leaves=12)
_FIELDS = st.fixed_dictionaries({}, optional={"players": _DATA, "kind": st.one_of(_DATA, st.sampled_from(["value",
                                 "cost"])), "values": _DATA, "valeus": _DATA})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FIELDS)
def test_any_data_gives_a_game_or_a_game_error(data: dict[str, object]) -> None:
    from allocopt.errors import GameError
    from allocopt.games.gamefile import game_from_dict

    try:
        game_from_dict(data, "fuzz.yaml")
    except GameError as err:
        assert err.problems and all(p.source == "fuzz.yaml" for p in err.problems)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=60), st.sampled_from(["g.yaml", "g.json", "g.csv"]))
def test_any_bytes_exit_0_or_3(raw: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        res = CliRunner().invoke(main, ["game", str(path), "--concepts", "shapley"])
    assert res.exit_code in (0, EXIT_INPUT), res.output
    assert "Traceback" not in res.output


_EXTREMES = st.sampled_from(["0", "1e-300", "5e-324", "-0.001", "7", "1e12", "-1e12", "1e21", "1e300", "-1e300",
                             "1e301", "1e308", "-1.7976931348623157e308", "1" * 400])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 3), data=st.data(), kind=st.sampled_from(["value", "cost"]))
def test_games_of_extreme_values_exit_0_or_3_naming_the_file_and_coalition(n: int, data: st.DataObject,
                                                                           kind: str) -> None:
    players = ["a", "b", "c"][:n]
    masks = range(1, 2**n)
    values = {m: data.draw(_EXTREMES) for m in masks}
    label = {m: "+".join(p for i, p in enumerate(players) if (m >> i) & 1) for m in masks}
    text = "coalition,value\n" + "".join(f"{label[m]},{values[m]}\n" for m in masks)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "extreme.csv"
        path.write_text(text)
        res = CliRunner().invoke(main, ["game", str(path), "--kind", kind])
    assert "Traceback" not in res.output and "Warning" not in res.output, res.output
    too_large = [m for m in masks if abs(float(values[m])) > 1e300]
    if too_large:
        assert res.exit_code == EXIT_INPUT, res.output
        assert f"extreme.csv:{too_large[0] + 1}: coalition {label[too_large[0]]}: is " in res.stderr, res.stderr
    else:
        assert res.exit_code == 0, res.output


def test_an_allocation_whose_sums_overflow_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    """Before: amounts of 1e308 were taken, and the allocation 'handed out inf' with numpy's overflow warnings."""
    given = write(tmp_path, "split.yaml", "left: 1e308\nright1: 0\nright2: 0\n")
    res = runner.invoke(main, ["game", write(tmp_path, "glove.yaml", GLOVE_YAML), "--allocation", given])
    assert res.exit_code == EXIT_INPUT, res.output
    assert "split.yaml:1: left: is 1e+308: sums of amounts this large overflow" in res.stderr


# -- what a CSV file holds that is not read is said, naming it


def test_extra_csv_columns_are_named_in_a_warning(runner: CliRunner, tmp_path: Path) -> None:
    """Before: columns other than coalition and value (and values past the header) were ignored without a word."""
    game = write(tmp_path, "extra.csv", "coalition,value,weight,note\na,1,2,x\nb,1,,\na+b,3,,\n")
    res = runner.invoke(main, ["game", game, "--concepts", "shapley"])
    assert res.exit_code == 0, res.output
    assert f"warning: {game}:1: header: the columns 'weight', 'note' are not read (only coalition and value are)" \
        in res.stderr
    split = write(tmp_path, "split.csv", "coalition,value\na,1\nb,1\na+b,3,4\n")
    res = runner.invoke(main, ["game", split, "--concepts", "shapley"])
    assert res.exit_code == 0 and f"warning: {split}:4: row: holds a value in a column the header does not name" \
        in res.stderr
    given = write(tmp_path, "given.csv", "player,amount,comment\na,2,x\nb,1,y\n")
    res = runner.invoke(main, ["game", game, "--concepts", "shapley", "--allocation", given])
    assert res.exit_code == 0 and f"warning: {given}:1: header: the column 'comment' is not read" in res.stderr
    quiet = runner.invoke(main, ["game", write(tmp_path, "plain.csv", "coalition,value,\na,1,\nb,1\na+b,3,\n")])
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr  # an empty trailing column holds nothing


def test_python_callers_hear_of_unread_columns_as_a_warning(tmp_path: Path) -> None:
    from allocopt.games.gamefile import load_game

    with pytest.warns(UserWarning, match="the column 'weight' is not read"):
        load_game(write(tmp_path, "extra.csv", "coalition,value,weight\na,1,2\nb,1,\na+b,3,\n"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra=st.lists(st.text(alphabet="abcxyz_ ", min_size=1, max_size=8), max_size=3, unique=True),
       order=st.randoms(use_true_random=False), stray=st.booleans())
def test_every_csv_column_not_read_is_named(extra: list[str], order: Any, stray: bool) -> None:
    header = ["coalition", "value", *extra]
    order.shuffle(header)
    rows = {"a": "1", "b": "2", "a+b": "4"}

    def line(coalition: str, value: str) -> str:
        cells = {"coalition": coalition, "value": value}
        return ",".join(cells.get(h, "") for h in header)

    text = ",".join(header) + "\n" + "".join(line(c, v) + "\n" for c, v in rows.items())
    if stray:
        text += line("b+a", "5") + ",9\n"  # more fields than the header names (b+a is a+b: refused as a repeat)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "g.csv"
        path.write_text(text)
        res = CliRunner().invoke(main, ["game", str(path), "--concepts", "shapley"])
    assert "Traceback" not in res.output
    named = [h.strip() for h in extra if h.strip() and h.strip().lower() not in ("coalition", "value")]
    for name in named:
        assert f"'{name}'" in res.stderr, res.stderr
    assert ("header:" in res.stderr) == bool(named), res.stderr
    assert ("column the header does not name" in res.stderr) == stray, res.stderr
