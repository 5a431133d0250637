"""The live partnership behind the what-if page: one :class:`~allocopt.session.Session`, the plan on screen, and
what the last change moved.

Every change goes through :class:`Room`, one at a time (a lock: two tabs editing at once are served in turn). A
field is changed by its path, as :func:`allocopt.with_value` takes it, with its value written as in an instance file
(``1.5e6``, ``pause``); it is validated as an instance file is (the same problems, the same messages) before the
session moves, so a refused edit leaves the plan as it was. A limit moves in place in HiGHS; anything else rebuilds
the model (the change says which). The re-solved plan is compared with the one before (:func:`plan_diff`), and the
change of the objective with what the edited limit's shadow price predicted.

Files: the instance the room was opened on is never written; an edited partnership is saved only into the
directory fixed when the room was opened, under a name the room chooses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocopt.errors import AllocoptError, InstanceError, OptionsError, Problem

MAX_FIELD_TEXT = 10_000
"""The longest value (or path) text an edit may carry."""


class StoppedError(AllocoptError):
    """The planner stopped a computation from the page before it finished (nothing was changed)."""


@dataclass(frozen=True)
class Prediction:
    """What the edited limit's shadow price said the objective would do, beside what it did."""

    predicted: float | None
    """Price x step (None: the field has no price, or the plan before had none)."""
    actual: float | None
    """The true change of the objective (None: a plan is missing before or after)."""
    text: str
    """The prediction in words: price, step, whether the new value lies within the price's range."""


@dataclass(frozen=True)
class Change:
    """What the latest action on the page did."""

    what: str
    how: str
    """``in place``, ``rebuilt`` (the model was rebuilt) or ``reset``."""
    seconds: float
    """Wall time of the change, the re-solve, the prices and the check."""
    old_objective: float | None
    new_objective: float | None
    prediction: Prediction | None
    diff_lines: list[str] = field(default_factory=list)
    objectives: tuple[tuple[str, bool], tuple[str, bool]] = (("total_net_gain", False), ("total_net_gain", False))
    """The objective before and after (its name, and whether it was undefined there): the unit each value is in."""


@dataclass
class Activity:
    """A computation under way, for the page's progress line."""

    what: str
    started: float = field(default_factory=time.perf_counter)
    done: int = 0
    total: int | None = None


def parse_value(text: str) -> Any:
    """A value written as in an instance file (YAML: ``1.5e6``, ``pause``, ``[a, b]``), read by the instance file's
    own reader."""
    from allocopt.io.reading import parse_text

    if len(text) > MAX_FIELD_TEXT:
        raise OptionsError(f"the value is {len(text)} characters long: write at most {MAX_FIELD_TEXT}")
    if "\n" in text or "\r" in text:
        raise OptionsError("write the value on one line")
    return parse_text(f"value: {text}\n", "<edit>")["value"]


def field_keys(path: str) -> tuple[str | int, ...]:
    """The keys of a field path (``commitments[0].min``), refused when it names nothing."""
    from allocopt.api import split_path

    keys = tuple(split_path(path)) if len(path) <= MAX_FIELD_TEXT else ()
    if not keys:
        raise InstanceError([Problem(path[:80], "no such field", "name a field, e.g. partners.northwind.weight")],
                            "<edit>")
    return keys


def value_at(data: Any, keys: tuple[str | int, ...]) -> Any:
    """The value at ``keys`` in plain data, or None where there is none."""
    node = data
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def file_stem(text: str) -> str:
    """A name safe as (part of) a file name, from an instance's name or file."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")[:60] or "partnership"


class Room:
    """One partnership held live for the what-if page.

    ``instance`` and ``model`` are the files given on the command line (read once, never written);
    ``save_dir`` is the only directory an edited partnership is saved into (None: saving is offered as a download
    only); ``time_limit`` bounds each change (its solve, every stage of it, from the moment it may start)."""

    def __init__(self, instance: str | Path, model: str | Path | None = None, *, save_dir: str | Path | None = None,
                 time_limit: float | None = None) -> None:
        from allocopt.instance.schema import load_instance
        from allocopt.session import Session
        from allocopt.solver.specs import load_model_spec

        self.source = Path(instance)
        self.model_source = None if model is None else Path(model)
        self.save_dir = None if save_dir is None else Path(save_dir)
        self.time_limit = time_limit
        self.original = load_instance(self.source)
        self.original_spec = load_model_spec(self.model_source)
        self.session = Session(self.original, self.original_spec, time_limit=time_limit)
        self.lock = threading.RLock()
        """Held by every change (one solve at a time); re-entrant, so a caller may hold it over a change and its
        view."""
        self.activity: Activity | None = None
        self.edits: dict[tuple[str | int, ...], str] = {}
        """The fields changed since the file was read, with their values as written on the page."""
        self.change: Change | None = None
        self.coalitions: Any = None
        self.saved: list[Path] = []
        self.version = 0
        """Counts the plans shown (the page reloads its view when it changes)."""
        self._stop = threading.Event()
        self.result: Any = None
        self.prices: Any = None
        self.check: Any = None
        with self.lock, self._busy("solving the partnership as written"):
            self._solve()

    # -- the solve and its companions ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _busy(self, what: str, total: int | None = None) -> Iterator[Activity]:
        """What runs in the block, for the progress line; the time limit covers the whole block (every stage of a
        solve, every coalition), as a command's budget does."""
        from allocopt.progress import within

        self._stop.clear()
        self.session.resume()
        self.activity = Activity(what, total=total)
        try:
            with within(self.time_limit):
                yield self.activity
        finally:
            self.activity = None

    def _solve(self) -> None:
        """Solve the session as it stands, price the plan and check it independently."""
        from allocopt.check.checker import check_result
        from allocopt.session import with_prices_attached

        result = self.session.solve()
        prices = None
        if result.status.has_plan:
            self.session.resume()  # a stopped search keeps its plan; its prices are quick and still wanted
            prices = self.session.prices()
            result = with_prices_attached(result, prices)
        self.result, self.prices, self.coalitions = result, prices, None
        self.check = check_result(self.session.instance, result.to_dict()) if result.status.has_plan else None
        self.version += 1

    def _changed(self, what: str, how: str, before: Any, prices_before: Any, started: float,
                 edit: tuple[tuple[str | int, ...], Any] | None) -> Change:
        from allocopt.quarterly.diff import plan_diff

        after = self.result
        both = before.status.has_plan and after.status.has_plan
        lines = plan_diff(before, after).summary() if both else []
        old = before.objective if before.status.has_plan else None
        new = after.objective if after.status.has_plan else None
        prediction = None
        if edit is not None:
            # under a fairness objective the prices are its own where it has them (in its own unit), else those of
            # the total net gain (at that objective's gates)
            own = prices_before is not None and getattr(prices_before, "priced", None) is not None
            fair = not own and prices_before is not None and \
                getattr(prices_before, "fair_objective", None) is not None
            was, now = (before.total_net_gain, after.total_net_gain) if fair else (old, new)
            unit = prices_before.unit if own else self.session.instance.currency
            prediction = predict(prices_before, edit[0], edit[1], was, now, unit)
            if fair:
                prediction = dataclasses.replace(prediction, text=f"{prediction.text} (the price and the true "
                                                 "change are of the total net gain, not of the objective)")
        named = ((before.objective_name, bool(before.fairness.get("undefined"))),
                 (after.objective_name, bool(after.fairness.get("undefined"))))
        return Change(what, how, time.perf_counter() - started, old, new, prediction, lines, named)

    # -- what the page asks ----------------------------------------------------------------------------------------
    def edit(self, path: str, text: str) -> Change:
        """Change one field (its path as :func:`allocopt.with_value` takes it, a first key ``model`` for the model
        file) to the value written in ``text``, validated as an instance file is, and re-solve."""
        keys = field_keys(path)
        value = parse_value(text)
        with self.lock, self._busy(f"re-solving with {path} = {text}"):
            started = time.perf_counter()
            before, prices_before = self.result, self.prices
            data = self.session.spec.model_dump(mode="json") if keys[0] == "model" else \
                self.session.instance.model_dump(mode="json", exclude_unset=True)
            old = value_at(data, keys[1:] if keys[0] == "model" else keys)
            how = self.session.set(keys, value)
            self.edits[keys] = text
            self._solve()
            what = f"{path}: {_shown(old)} -> {_shown(value)}"
            self.change = self._changed(what, how, before, prices_before, started, (keys, value))
            return self.change

    def objective(self, text: str) -> Change:
        """Solve under another objective (``nash``, ``alpha_fair:alpha=2``), checked as a model file's is."""
        from allocopt.solver.specs import with_objective

        if len(text) > MAX_FIELD_TEXT:
            raise OptionsError("the objective is too long")
        spec = with_objective(self.session.spec, text, source="<objective>")
        with self.lock, self._busy(f"solving under {spec.objective.label()}"):
            started = time.perf_counter()
            before = self.result
            old_label = self.session.spec.objective.label()
            how = self.session.replace(self.session.instance, spec)
            self._solve()
            self.change = self._changed(f"objective: {old_label} -> {spec.objective.label()}", how, before, None,
                                        started, None)
            return self.change

    def reset(self) -> Change:
        """Back to the partnership and model file as they were read."""
        with self.lock, self._busy("solving the partnership as written"):
            started = time.perf_counter()
            before = self.result
            self.session.replace(self.original, self.original_spec)
            self.edits.clear()
            self._solve()
            self.change = self._changed("every change undone: the partnership as written", "reset", before, None,
                                        started, None)
            return self.change

    def compute_coalitions(self) -> Any:
        """Every coalition's value and the Shapley split of the partnership on screen (solved on sessions of their
        own; the page's stop button ends it between two coalitions)."""
        from allocopt.games.coalitions import MAX_EXACT_PARTNERS, coalition_game

        n = len(self.session.instance.partners)
        with self.lock, self._busy("coalition values", total=2**n - 1 if n <= MAX_EXACT_PARTNERS else None) as act:

            def progress(done: int) -> None:
                act.done += done
                if self._stop.is_set():
                    raise StoppedError("stopped: the coalition values were not all computed (nothing changed)")

            self.coalitions = coalition_game(self.session.instance, self.session.spec, concepts=("shapley",),
                                             time_limit=self.time_limit, progress=progress)
            return self.coalitions

    def stop(self) -> bool:
        """Stop what runs (a solve keeps its best plan so far); False when nothing runs."""
        self._stop.set()
        if self.activity is None:
            return False
        self.session.interrupt()
        return True

    def progress(self) -> dict[str, Any]:
        """What runs now, for the page's progress line (read without waiting for the lock)."""
        act = self.activity
        if act is None:
            return {"busy": False, "version": self.version}
        state = self.session.search_state() if hasattr(self.session, "highs") else {}
        finite = {k: v for k, v in state.items() if math.isfinite(v)}  # no gap before a first plan
        return {"busy": True, "what": act.what, "seconds": time.perf_counter() - act.started, "done": act.done,
                "total": act.total, "gap": finite.get("gap"), "nodes": finite.get("nodes"), "version": self.version}

    # -- files -------------------------------------------------------------------------------------------------------
    def instance_text(self) -> str:
        """The partnership on screen as an instance file (YAML): the given file's own text with the edited numbers
        changed where it is YAML and they are written there plainly, else written out in full."""
        from allocopt.workflows import edited_instance_text

        scalars = {tuple(str(k) for k in keys): text for keys, text in self.edits.items()
                   if keys[0] != "model" and all(isinstance(k, str) for k in keys)}
        return edited_instance_text(self.source, self.session.instance, scalars, ".yaml")

    def instance_file_name(self) -> str:
        return f"{file_stem(self.source.stem)}-what-if.yaml"

    def save(self) -> Path:
        """Save the partnership on screen as a new instance file in the save directory, under a new name (never
        over a file already there, never over the instance given)."""
        from allocopt.io.files import write_atomic

        if self.save_dir is None:
            raise OptionsError("saving needs a directory fixed when the page was started (allocopt serve "
                               "--save-dir DIR); download the instance file instead")
        with self.lock:
            text = self.instance_text()
            stem = file_stem(self.source.stem)
            k = 1
            while (self.save_dir / f"{stem}-what-if-{k}.yaml").exists() or \
                    (self.save_dir / f"{stem}-what-if-{k}.yaml").is_symlink():
                k += 1
            target = self.save_dir / f"{stem}-what-if-{k}.yaml"
            protect = [p for p in (self.source, self.model_source) if p is not None]
            write_atomic(target, text, protect=protect, sign="hash")
            self.saved.append(target)
            return target

    def result_zip(self) -> bytes:
        """The result set of the plan on screen (result.json and a CSV per table, as ``solve --out`` writes it)
        and the partnership it plans (instance.yaml), as one zip archive."""
        from allocopt.workflows import result_files

        files = result_files(self.result)
        files["instance.yaml"] = self.instance_text()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(name, content)
        return buffer.getvalue()

    def meeting_page(self) -> str:
        """The partner meeting's page of the plan on screen (with its prices, and the coalitions if computed)."""
        from allocopt.reports.meeting import meeting_report, render_html

        return render_html(meeting_report(self.session.instance, self.result, prices=self.prices,
                                          coalitions=self.coalitions))

    def workbook(self) -> bytes:
        """Every table of the plan on screen in one workbook (needs the ``[xlsx]`` extra)."""
        from allocopt.io.workbook import result_workbook

        return result_workbook(self.result)

    def close(self) -> None:
        """Stop what runs, wait for it, and let go of the session."""
        self.stop()
        with self.lock:
            self.session.close()


def predict(prices: Any, keys: tuple[str | int, ...], value: Any, old: float | None, new: float | None,
            currency: str) -> Prediction:
    """The edited limit's shadow price times the step, beside the true change of the objective."""
    from allocopt.api import split_path
    from allocopt.results.units import amount

    actual = None if old is None or new is None else new - old
    if prices is None:
        return Prediction(None, actual, "no prices: the plan before had none")
    limits = prices.limits
    rows = limits[[tuple(split_path(str(p))) == keys for p in limits["path"]]]
    if rows.empty or isinstance(value, bool) or not isinstance(value, (int, float)):
        return Prediction(None, actual, "no shadow price for this field: it is not a priced limit (a value, a "
                                        "weight or a rule moves the plan in other ways)")
    row = rows.iloc[0]
    step = float(value) - float(row["limit"])
    price = float(row["price_up"] if step > 0 else row["price_down"])
    predicted = price * step if math.isfinite(price) else None
    low, high = float(row["range_low"]), float(row["range_high"])
    text = (f"price {amount(price)} {row['price_unit']} x step {step:+,.6g} {row['unit']} = "
            f"{'unbounded' if predicted is None else amount(predicted, currency)}")
    if not low - 1e-9 <= float(value) <= high + 1e-9:
        text += (f"; {amount(value)} lies outside the range over which the price holds ({amount(low)} to "
                 f"{amount(high)} {row['unit']})")
    return Prediction(predicted, actual, text)



def _shown(value: Any) -> str:
    """A field's value as the change line shows it: numbers with separators, the rest as a file writes it."""
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
