"""Reading a cooperative game (a characteristic function) and an allocation from files.

YAML or JSON (read safely by :func:`allocopt.io.reading.read_data`)::

    players: [acme, globex, initech]     # optional: else the order in which names first appear
    kind: value                          # or cost; default value
    values:                              # a list ...
      - {coalition: [acme], value: 10}
      - {coalition: [acme, globex], value: 25}
    values:                              # ... or a mapping "a+b": value ("" or "{}" for the empty coalition)
      acme: 10
      acme+globex: 25

CSV: a header with the columns ``coalition`` and ``value``; members joined by ``+`` or spaces; lines starting
with ``#`` are comments. The kind comes from the caller (``--kind``), ``value`` by default.

Every problem is reported at once, each with the file, the line, the field and the fix, as a
:class:`~allocopt.errors.GameError`.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from allocopt.errors import GameError, InstanceError, Problem
from allocopt.games.game import KINDS, MAX_GAME_VALUE, Game, player_problems, too_large_problem

TOP_FIELDS = ("players", "kind", "values", "name", "description")
Entry = tuple[str, str, list[str], Any]
"""One coalition as written: its coalition field, its value field, its members and its value."""


Warn = Callable[[str], None]
"""Told what a file holds that is not read (a CSV column allocopt does not know), as one line naming the file."""


def _warn_python(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def load_game(path: str | Path, kind: str | None = None, warn: Warn | None = None) -> Game:
    """A game from a YAML, JSON or CSV file. ``kind`` sets a CSV file's kind; for YAML or JSON it must agree
    with the file's ``kind`` when both are given. What a CSV file holds that is not read (columns other than
    coalition and value) is told to ``warn`` (default: a Python :class:`UserWarning`)."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return _load_csv(p, kind or "value", warn or _warn_python)
    from allocopt.io.reading import read_data

    try:
        file = read_data(p, kind="game")
    except InstanceError as err:
        raise GameError(err.problems, str(path)) from None
    try:
        return game_from_dict(file.data, file.source, kind)
    except GameError as err:
        raise GameError(_in_file_order(file.locate(err.problems)), file.source) from None


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line if p.line is not None else 0)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def _number_problem(path: str, x: Any) -> Problem:
    if isinstance(x, str):
        return Problem(path, f"is the text '{x}', not a number", "write the number without quotes")
    if isinstance(x, bool):
        return Problem(path, f"is {'true' if x else 'false'}, not a number", "give the coalition's value")
    if isinstance(x, float):
        return Problem(path, f"is {x}, not a finite number", "give a finite number")
    return Problem(path, f"is {'nothing' if x is None else repr(x)}, not a number", "give the coalition's value")


def game_from_dict(data: Any, source: str = "<game>", kind: str | None = None) -> Game:
    """A game from plain data as read from YAML or JSON (see the module's docstring)."""

    def fail(problems: list[Problem]) -> GameError:
        return GameError([Problem(p.path, p.message, p.fix, source=source, line=p.line) for p in problems], source)

    if not isinstance(data, dict):
        raise fail([Problem("", "does not hold a game", "write players, kind and values at the top level")])
    problems = [Problem(str(key), "is not a field of a game", f"use {', '.join(TOP_FIELDS)}")
                for key in data if key not in TOP_FIELDS]
    file_kind = data.get("kind")
    problems += _kind_problems(file_kind, kind)
    players, player_trouble = _listed_players(data.get("players"))
    problems += player_trouble
    entries, value_trouble = _coalition_entries(data.get("values"))
    problems += value_trouble
    return _build(entries, players, str(file_kind or kind or "value"), problems, fail)


def _kind_problems(file_kind: Any, asked: str | None) -> list[Problem]:
    """Whether the file's kind of game is one, and agrees with the kind asked for (``--kind``)."""
    if file_kind is not None and file_kind not in KINDS:
        return [Problem("kind", f"is {file_kind!r}, not a kind of game", "use value or cost")]
    if file_kind is not None and asked is not None and file_kind != asked:
        return [Problem("kind", f"is '{file_kind}', but '{asked}' was asked for",
                        "leave out --kind, or change the file's kind")]
    return []


def _listed_players(players: Any) -> tuple[list[str] | None, list[Problem]]:
    """The players the file lists (``None`` when it lists none, or a list with problems)."""
    if players is not None and (not isinstance(players, list) or not all(isinstance(p, str) for p in players)):
        return None, [Problem("players", "must be a list of names", "write players: [a, b, c]")]
    if players is not None and player_problems(players):
        return None, player_problems(players)
    return players, []


def _coalition_entries(values: Any) -> tuple[list[Entry], list[Problem]]:
    """The coalitions under ``values``, given as a mapping ``"a+b": value`` or a list of entries."""
    if values is None:
        return [], [Problem("values", "is missing", "give each coalition's value under values")]
    if isinstance(values, (dict, list)) and not values:
        return [], [Problem("values", "is empty", "give each coalition's value under values")]
    if isinstance(values, dict):
        return _entries_by_label(values)
    if isinstance(values, list):
        return _entries_listed(values)
    return [], [Problem("values", "must be a list of {coalition, value} entries or a mapping 'a+b': value",
                        "see the user guide, section 'Cooperative games'")]


def _entries_by_label(values: dict[Any, Any]) -> tuple[list[Entry], list[Problem]]:
    """Coalitions written as ``"a+b": value``."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    for label, number in values.items():
        if not isinstance(label, str):
            problems.append(Problem(f"values.{label}", f"the coalition {label!r} is not text",
                                    "write its members joined by '+', in quotes if need be"))
            continue
        names = [part for part in re.split(r"[+\s]+", str(label).strip()) if part and str(label) != "{}"]
        entries.append((f"values.{label}", f"values.{label}", names, number))
    return entries, problems


def _entries_listed(values: list[Any]) -> tuple[list[Entry], list[Problem]]:
    """Coalitions written as a list of ``{coalition: [a, b], value: 3}`` entries."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    for i, item in enumerate(values):
        path = f"values[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(path, "is not a coalition entry", "write {coalition: [a, b], value: 3}"))
            continue
        extra = [k for k in item if k not in ("coalition", "value")]
        if extra:
            problems.append(Problem(f"{path}.{extra[0]}", "is not a field of a coalition entry",
                                    "use coalition and value"))
        members = item.get("coalition")
        if isinstance(members, str):
            members = [part for part in re.split(r"[+\s]+", members.strip()) if part]
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            problems.append(Problem(f"{path}.coalition", "must be a list of player names", "write coalition: [a, b]"))
            continue
        if "value" not in item:
            problems.append(Problem(f"{path}.value", "is missing", "give the coalition's value"))
            continue
        entries.append((f"{path}.coalition", f"{path}.value", members, item["value"]))
    return entries, problems


def _build(entries: list[Entry], players: Sequence[str] | None, kind: str,
           problems: list[Problem], fail: Any) -> Game:
    """Check the entries (numbers, names, repeats) and make the game; every problem at once."""
    if players is None:
        seen: dict[str, None] = {}
        for _, _, names, _ in entries:
            for name in names:
                seen.setdefault(name, None)
        players = list(seen)
    index = {p: i for i, p in enumerate(players)}
    worth: dict[int, float] = {}
    where: dict[int, str] = {}
    for path, value_path, names, number in entries:
        if not _is_number(number):
            problems.append(_number_problem(value_path, number))
            continue
        if abs(float(number)) > MAX_GAME_VALUE:
            problems.append(too_large_problem(value_path, float(number)))
            continue
        mask = 0
        for name in names:
            if name not in index:
                problems.append(Problem(path, f"names '{name}', who is not a player",
                                        f"use one of {', '.join(players)}, or add '{name}' to players"))
                break
            if (mask >> index[name]) & 1:
                problems.append(Problem(path, f"names '{name}' twice", "list each member once"))
                break
            mask |= 1 << index[name]
        else:
            if mask in where:
                problems.append(Problem(path, f"repeats the coalition given at {where[mask]}",
                                        "give each coalition once"))
                continue
            worth[mask], where[mask] = float(number), value_path
    if problems:
        raise fail(problems)
    try:
        return Game.from_masks(players, worth, kind, where)
    except GameError as err:
        raise fail(err.problems) from None


def _read_text(path: Path, what: str) -> str:
    from allocopt.io.reading import read_bounded

    try:
        raw = read_bounded(path, str(path), what)
    except InstanceError as err:
        raise GameError(err.problems, str(path)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GameError([Problem("", "is not UTF-8 text", "save it as UTF-8 CSV", source=str(path))],
                        str(path)) from None


def _csv_rows(text: str, source: str) -> list[tuple[int, list[str]]]:
    """The rows of a CSV text with their line numbers, comments and blank lines left out; a line the csv module
    cannot split (a field longer than its limit of 128 KiB) is a :class:`GameError` naming the line."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            rows.append((number, next(csv.reader(io.StringIO(line)))))
        except csv.Error as err:
            limit = csv.field_size_limit()
            reason = f"holds a field longer than {limit:,} characters" if "field larger" in str(err) else \
                f"cannot be read as CSV ({err})"
            raise GameError([Problem("row", reason, "shorten the line: no name or number needs that many characters",
                                     source=source, line=number)], source) from None
    return rows


def _header(rows: list[tuple[int, list[str]]], columns: tuple[str, str], source: str) -> dict[str, int]:
    if not rows:
        raise GameError([Problem("", "is empty", f"write a header {','.join(columns)} and one row per entry",
                                 source=source)], source)
    line, header = rows[0]
    names = [h.strip().lower() for h in header]
    if not all(c in names for c in columns):
        raise GameError([Problem("header", f"is '{','.join(header)}'; the columns {' and '.join(columns)} are "
                                           "needed", f"start the file with the line {','.join(columns)}",
                                 source=source, line=line)], source)
    return {c: names.index(c) for c in columns}


def _unread_columns(rows: list[tuple[int, list[str]]], column: dict[str, int], source: str, warn: Warn) -> None:
    """Tell ``warn`` of the columns a CSV file holds beyond those read: named ones by name, and values in columns
    without a name (a line with more fields than the header) by the first line holding one."""
    line, header = rows[0]
    read = set(column.values())
    named = [h.strip() for k, h in enumerate(header) if k not in read and h.strip()]
    if named:
        shown = ", ".join(f"'{h}'" for h in named)
        warn(f"{source}:{line}: header: the column{'s' if len(named) > 1 else ''} {shown} "
             f"{'are' if len(named) > 1 else 'is'} not read (only {' and '.join(column)} are); remove "
             f"{'them' if len(named) > 1 else 'it'}, or check the spelling")
    unnamed = [(n, row) for n, row in rows[1:]
               if any(v.strip() for k, v in enumerate(row) if k not in read and (k >= len(header) or not
                                                                                   header[k].strip()))]
    if unnamed:
        n, row = unnamed[0]
        more = f" (and {len(unnamed) - 1} more line{'s' if len(unnamed) > 2 else ''})" if len(unnamed) > 1 else ""
        warn(f"{source}:{n}: row: holds a value in a column the header does not name{more}, which is not read; "
             "name the column, or remove the value (a coalition's members are joined by '+', not commas)")


def _load_csv(path: Path, kind: str, warn: Warn) -> Game:
    source = str(path)
    rows = _csv_rows(_read_text(path, "game"), source)
    column = _header(rows, ("coalition", "value"), source)
    _unread_columns(rows, column, source, warn)
    problems: list[Problem] = []
    entries: list[Entry] = []
    lines: dict[str, int] = {}
    for line, row in rows[1:]:
        if len(row) <= max(column.values()):
            problems.append(Problem("row", f"has {len(row)} column{'s' if len(row) != 1 else ''}",
                                    "give a coalition and a value on each line", source=source, line=line))
            continue
        label, text = row[column["coalition"]].strip(), row[column["value"]].strip()
        names = [part for part in re.split(r"[+\s]+", label) if part and label != "{}"]
        try:
            number: Any = float(text)
        except ValueError:
            number = text
        field = f"coalition {label or '{}'}"
        lines[field] = line
        entries.append((field, field, names, number))

    def fail(found: list[Problem]) -> GameError:
        located = [Problem(p.path, p.message, p.fix, source=source, line=p.line or lines.get(p.path))
                   for p in found]
        return GameError(_in_file_order(located), source)

    return _build(entries, None, kind, problems, fail)


Given = tuple[dict[str, Any], dict[str, tuple[str, int | None]]]
"""What an allocation gives, by player (as written), and each amount's field and line."""


def load_allocation(spec: str, players: Sequence[str], warn: Warn | None = None) -> dict[str, float]:
    """An allocation (amount per player) from a file (YAML/JSON mapping ``player: amount``, or CSV with columns
    ``player,amount``) or written inline: ``acme=10,globex=5``. A CSV file's columns beyond those are told to
    ``warn``."""
    path = Path(spec)
    looks_like_file = path.suffix.lower() in (".yaml", ".yml", ".json", ".csv") or path.exists()
    source = spec if looks_like_file else "--allocation"
    if looks_like_file and path.suffix.lower() == ".csv":
        given, where = _csv_allocation(path, source, warn or _warn_python)
    elif looks_like_file:
        given, where = _data_allocation(path, spec)
    else:
        given, where = _inline_allocation(spec, source)
    return _amounts(given, where, players, source)


def _csv_allocation(path: Path, source: str, warn: Warn) -> Given:
    given: dict[str, Any] = {}
    where: dict[str, tuple[str, int | None]] = {}
    rows = _csv_rows(_read_text(path, "allocation"), source)
    column = _header(rows, ("player", "amount"), source)
    _unread_columns(rows, column, source, warn)
    for row_line, row in rows[1:]:
        if len(row) > max(column.values()):
            name = row[column["player"]].strip()
            given[name], where[name] = row[column["amount"]].strip(), (name, row_line)
    return given, where


def _data_allocation(path: Path, spec: str) -> Given:
    from allocopt.io.reading import read_data

    try:
        file = read_data(path, kind="allocation")
    except InstanceError as err:
        raise GameError(err.problems, spec) from None
    if not isinstance(file.data, dict):
        raise GameError([Problem("", "does not hold an allocation", "write one line 'player: amount' each",
                                 source=spec)], spec)
    given: dict[str, Any] = {}
    where: dict[str, tuple[str, int | None]] = {}
    for name, amount in file.data.items():
        at = file.lines.line_of(str(name)) if file.lines is not None else None
        given[str(name)], where[str(name)] = amount, (str(name), at)
    return given, where


def _inline_allocation(spec: str, source: str) -> Given:
    given: dict[str, Any] = {}
    where: dict[str, tuple[str, int | None]] = {}
    for part in (p for p in re.split(r"[,\s]+", spec.strip()) if p):
        name, sep, amount = part.partition("=")
        if not sep:
            name, sep, amount = part.partition(":")
        if not sep or not name:
            raise GameError([Problem("", f"'{part}' is not player=amount",
                                     "write e.g. acme=10,globex=5, or name a file", source=source)], source)
        given[name.strip()], where[name.strip()] = amount.strip(), (name.strip(), None)
    return given, where


def _amounts(given: dict[str, Any], where: dict[str, tuple[str, int | None]], players: Sequence[str],
             source: str) -> dict[str, float]:
    """The amounts, each a finite number within :data:`MAX_GAME_VALUE` for a player; every problem at once."""
    problems: list[Problem] = []
    amounts: dict[str, float] = {}
    for name, amount in given.items():
        field, at = where[name]
        if name not in players:
            problems.append(Problem(field, "is not a player", f"use one of {', '.join(players)}", source, at))
            continue
        try:
            number = float(amount) if not isinstance(amount, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            problems.append(Problem(field, f"is {amount!r}, not a number", "give a finite amount", source, at))
        elif abs(number) > MAX_GAME_VALUE:
            too_large = too_large_problem(field, number, "amount")
            problems.append(Problem(field, too_large.message, too_large.fix, source, at))
        else:
            amounts[name] = number
    for name in players:
        if name not in given:
            problems.append(Problem(name, "has no amount", "give every player an amount", source))
    if problems:
        raise GameError(problems, source)
    return amounts
