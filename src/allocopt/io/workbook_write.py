"""Writing workbooks: an instance as an Excel workbook (.xlsx), losslessly (the layout is
:mod:`allocopt.io.workbook_layout`'s), its tidy YAML or JSON text, and a result's tables.

Every field of the instance gets a cell; a field the sheets do not know goes, as JSON, to the ``more`` sheet. A
number a spreadsheet would round is written as its exact text (:func:`exact`), which reading turns back into the
same float.
"""

from __future__ import annotations

import copy
import io
import json
import math
from typing import Any

from allocopt.io.workbook_layout import (
    COMMITMENT_FIELDS,
    EVERY_PHASE,
    INITIATIVE_FIELDS,
    KINDS,
    PARTNER_FIELDS,
    RISK_FIELDS,
    SHEETS,
    column_letter,
    openpyxl_module,
)
from allocopt.io.workbook_style import add_dropdowns, format_instance, format_table, money_format

More = list[tuple[list[Any], Any]]
"""Fields for the ``more`` sheet: (JSON key path, value)."""


def exact(x: Any) -> Any:
    """A number as the workbook stores it: openpyxl writes 16 significant digits, so a float that needs 17 (0.1 +
    0.2, say) is written as its exact text, which reading turns back into the same float."""
    if isinstance(x, float) and math.isfinite(x) and float(f"{x:.16g}") != x:
        return repr(x)
    return x


def _sheet(book: Any, spec_name: str, headers: list[str], rows: list[list[Any]], first: bool = False,
           exact_numbers: bool = True) -> None:
    from openpyxl.styles import Font

    ws = book.active if first else book.create_sheet()
    ws.title = spec_name
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([exact(v) for v in row] if exact_numbers else row)
    for col in ws.iter_cols(min_row=1, max_row=ws.max_row):
        for cell in col:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, never a formula: a name may begin with '='
                cell.quotePrefix = True
    ws.freeze_panes = "A2"
    for n, header in enumerate(headers, start=1):
        width = max([len(str(header))] + [len(str(r[n - 1])) for r in rows[:200] if n - 1 < len(r)
                                          and r[n - 1] is not None])
        ws.column_dimensions[column_letter(n)].width = min(60, max(10, width + 2))


def _pop(mapping: dict[str, Any], key: str) -> Any:
    return mapping.pop(key, None)


def instance_to_workbook(inst: Any, sections: dict[str, Any] | None = None) -> Any:
    """An openpyxl workbook holding every field of the instance (see :mod:`allocopt.io.workbook_layout` for the
    layout), and the file's other top-level ``sections`` (its ``scenarios``) as JSON on the ``more`` sheet; money
    and amounts formatted in their currency and units, names offered in drop-down lists
    (:mod:`allocopt.io.workbook_style`)."""
    openpyxl = openpyxl_module()
    data = copy.deepcopy(inst.model_dump(mode="json", exclude_unset=True))
    book = openpyxl.Workbook()
    currency = str(data.get("currency") or "USD")
    units = {str(r): str((res or {}).get("unit") or "") for r, res in (data.get("resources") or {}).items()}
    _sheet(book, "partnership", ["field", "value"],
           [[k, data.pop(k)] for k in ("name", "currency") if k in data], first=True)
    resources = data.pop("resources", {})
    more = _write_resources(book, resources)
    _sheet(book, "phases", ["phase"], [[t] for t in data.pop("phases", [])])
    more += _write_partners(book, data.pop("partners", {}))
    more += _write_initiatives(book, data.pop("initiatives", {}), list(resources))
    more += _write_commitments(book, data.pop("commitments", None) or [])
    more += [([k], v) for k, v in data.items()]
    more += [([k], v) for k, v in (sections or {}).items()]
    _sheet(book, "more", ["field", "value"], [[json.dumps(keys), json.dumps(v)] for keys, v in more])
    format_instance(book, currency, units)
    add_dropdowns(book, KINDS)
    return book


def _write_resources(book: Any, resources: dict[str, Any]) -> More:
    more: More = []
    rows = []
    for rid, res in resources.items():
        rows.append([rid, _pop(res, "unit"), _pop(res, "unit_value")])
        more += [(["resources", rid, k], v) for k, v in res.items()]
    _sheet(book, "resources", list(SHEETS["resources"].columns), rows)
    return more


def _write_partners(book: Any, partners: dict[str, Any]) -> More:
    """The partners, capacity and totals sheets."""
    more: More = []
    rows, capacity, totals = [], [], []
    for pid, p in partners.items():
        risk = p.pop("risk", {}) or {}
        rows.append([pid] + [_pop(p, k) for k in PARTNER_FIELDS] + [_pop(risk, k) for k in RISK_FIELDS])
        more += [(["partners", pid, "risk", k], v) for k, v in risk.items()]
        for rid, by_phase in (p.pop("capacity", {}) or {}).items():
            for tid, units in by_phase.items():
                capacity.append([pid, rid, tid, units])
        for rid, units in (p.pop("total", {}) or {}).items():
            totals.append([pid, rid, units])
        more += [(["partners", pid, k], v) for k, v in p.items()]
    _sheet(book, "partners", list(SHEETS["partners"].columns), rows)
    _sheet(book, "capacity", list(SHEETS["capacity"].columns), capacity)
    _sheet(book, "totals", list(SHEETS["totals"].columns), totals)
    return more


def _write_initiatives(book: Any, initiatives: dict[str, Any], resource_names: list[str]) -> More:
    """The initiatives, stages (a column per resource), dependencies, eligible and benefit_shares sheets."""
    more: More = []
    extra_resources = []  # needs of resources not defined (a workbook of an invalid instance is never written)
    rows, stages, deps, eligible, shares = [], [], [], [], []
    for iid, ini in initiatives.items():
        rows.append([iid] + [_pop(ini, k) for k in INITIATIVE_FIELDS])
        for tid, plan in (ini.pop("phases", {}) or {}).items():
            needs = plan.pop("needs", {}) or {}
            for rid in needs:
                if rid not in resource_names and rid not in extra_resources:
                    extra_resources.append(rid)
            stages.append((iid, tid, plan.pop("value", None), needs))
            more += [(["initiatives", iid, "phases", tid, k], v) for k, v in plan.items()]
        for kind in KINDS:
            deps += [[iid, kind, other] for other in ini.pop(kind, []) or []]
        for rid, allowed in (ini.pop("eligible", {}) or {}).items():
            eligible += [[iid, rid, p] for p in allowed] if allowed else [[iid, rid, None]]
        share = ini.pop("benefit_share", None)
        if share is not None:
            shares += [[iid, p, s] for p, s in share.items()]
        more += [(["initiatives", iid, k], v) for k, v in ini.items()]
    _sheet(book, "initiatives", list(SHEETS["initiatives"].columns), rows)
    columns = resource_names + extra_resources
    _sheet(book, "stages", ["initiative", "phase", "value"] + columns,
           [[i, t, v] + [needs.get(r) for r in columns] for i, t, v, needs in stages])
    _sheet(book, "dependencies", list(SHEETS["dependencies"].columns), deps)
    _sheet(book, "eligible", list(SHEETS["eligible"].columns), eligible)
    _sheet(book, "benefit_shares", list(SHEETS["benefit_shares"].columns), shares)
    return more


def _write_commitments(book: Any, commitments: list[dict[str, Any]]) -> More:
    more: More = []
    rows = []
    for k, c in enumerate(commitments):
        rows.append([_pop(c, col) for col in COMMITMENT_FIELDS])
        more += [(["commitments", k, key], v) for key, v in c.items()]
    _sheet(book, "commitments", list(COMMITMENT_FIELDS), rows)
    return more


def workbook_bytes(book: Any) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def instance_data(inst: Any) -> dict[str, Any]:
    """The instance as the plain data of a tidy YAML or JSON file: only the fields set, whole numbers without a
    decimal point, and a capacity that holds in every phase written as one number."""

    def tidy(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: tidy(v) for k, v in x.items()}
        if isinstance(x, list):
            return [tidy(v) for v in x]
        if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
            return int(x)
        return x

    data = tidy(inst.model_dump(mode="json", exclude_unset=True))
    for partner in data.get("partners", {}).values():
        for rid, by_phase in (partner.get("capacity") or {}).items():
            if isinstance(by_phase, dict) and list(by_phase) == [EVERY_PHASE]:
                partner["capacity"][rid] = by_phase[EVERY_PHASE]
    return data


def instance_text(inst: Any, suffix: str, sections: dict[str, Any] | None = None,
                  comments: dict[str, str] | None = None) -> str:
    """The instance as YAML (``.yaml``/``.yml``) or JSON (``.json``) text, with the file's other top-level
    ``sections`` (its ``scenarios``) after it; YAML with ``comments`` (field path -> text) as comment lines above
    their fields (JSON has no comments)."""
    data = {**instance_data(inst), **(sections or {})}
    if suffix == ".json":
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    import yaml

    text = str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))
    return with_yaml_comments(text, comments) if comments else text


def with_yaml_comments(text: str, comments: dict[str, str]) -> str:
    """``text`` (YAML) with each comment as ``#`` lines above the line of its field, at the field's indentation; a
    comment whose field the text does not hold goes at the top, naming its place."""
    from allocopt.io.yaml_tree import compose_quietly, field_lines

    root = compose_quietly(text)
    lines_of = field_lines(root) if root is not None else {}
    lines = text.splitlines()
    above: dict[int, list[str]] = {}
    top: list[str] = []
    for path, comment in comments.items():
        body = [c.rstrip() for c in str(comment).splitlines() if c.strip()] or [""]
        at = lines_of.get(path) or lines_of.get(f"{path}.*") or lines_of.get(path.rsplit(".", 1)[0])
        if at is None:
            top += [f"# {path}: {body[0]}"] + [f"#   {c}" for c in body[1:]]
            continue
        indent = lines[at - 1][:len(lines[at - 1]) - len(lines[at - 1].lstrip(" -"))].replace("-", " ")
        above.setdefault(at, []).extend(f"{indent}# {c}" for c in body)
    out = list(top)
    for n, line in enumerate(lines, start=1):
        out += above.get(n, [])
        out.append(line)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------------------
# Result tables


def result_workbook(result: Any, more: dict[str, Any] | None = None) -> bytes:
    """Every table of a result in one workbook: a summary sheet first, a sheet per table (the prices and their
    ranges where the result holds them), the fairness metrics, and the ``more`` tables given (e.g. the value
    ranges); money in the result's currency, every amount in its unit, shares in percent."""
    openpyxl = openpyxl_module()
    book = openpyxl.Workbook()
    status = result.status
    summary = [["instance", result.instance_name], ["currency", result.currency],
               ["termination", str(status.termination)], ["solution status", str(status.solution_status)],
               ["proven optimal", status.proven_optimal], ["objective", result.objective_name],
               ["objective value", _finite(result.objective)], ["bound", _finite(result.bound)],
               ["gap", _finite(result.gap)]] + [["note", n] for n in result.notes]
    _sheet(book, "summary", ["what", "value"], summary, first=True, exact_numbers=False)
    for row in book["summary"].iter_rows(min_row=2):
        if row[0].value in ("objective value", "bound") and isinstance(row[1].value, (int, float)):
            row[1].number_format = money_format(str(result.currency))
        elif row[0].value == "gap" and isinstance(row[1].value, (int, float)):
            row[1].number_format = "0.00%"
    tables = dict(result.tables)
    tables.update(more or {})
    fairness = _fairness_table(result)
    if fairness is not None:
        tables["fairness"] = fairness
    for name, df in tables.items():
        flat = df.reset_index() if any(n is not None for n in df.index.names) and len(df.columns) else df
        headers = [str(c) for c in flat.columns]
        rows = [[_finite(v) for v in row] for row in flat.itertuples(index=False, name=None)]
        _sheet(book, name[:31], headers, rows, exact_numbers=False)
        format_table(book[name[:31]], result.currency)
    return workbook_bytes(book)


def _fairness_table(result: Any) -> Any:
    """The fairness metrics as a table (measure, value, unit), or None where the result holds none."""
    import pandas as pd

    m = (result.fairness or {}).get("metrics") or {}
    if not m:
        return None
    cur = result.currency
    rows = [("total net gain", m.get("total_net_gain"), cur),
            ("smallest weighted gain above stand-alone", m.get("smallest_gain_above_stand_alone"), cur),
            ("Jain's index", m.get("jain_index"), ""), ("Gini coefficient", m.get("gini"), ""),
            ("price of fairness", m.get("price_of_fairness"), "%"),
            ("utilitarian total", m.get("utilitarian_total"), cur)]
    rows += [(f"gain above stand-alone: {p}", v, cur) for p, v in (m.get("gain_above_stand_alone") or {}).items()]
    rows += [("below its stand-alone value", p, "") for p in m.get("partners_below_stand_alone") or []]
    return pd.DataFrame([r for r in rows if r[1] is not None], columns=["measure", "value", "unit"]) \
        .set_index("measure")


def _finite(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, (str, int, float, bool)):
        return v
    return str(v)
