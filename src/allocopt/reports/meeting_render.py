"""Writing a partner meeting's report: one self-contained HTML page (inline CSS, charts as SVG data, no scripts,
no requests; laid out for printing on A4 or Letter) or one Markdown file. Every text is escaped here: sections hold
plain text, never markup."""

from __future__ import annotations

import base64
import html
import math
from typing import Any

from allocopt.io.text import visible
from allocopt.reports.meeting_parts import NO_STAGE, Report, Table
from allocopt.reports.meeting_sign import SIGN_KEY

CSS = """
:root { --ink: #1d2430; --muted: #5b6573; --line: #d5dae1; --proceed: #d6efd8; --adjust: #fde9c8;
        --pause: #eceff3; --bad: #f8d4d4; --good: #e3f3e5; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
p { margin: 6px 0; }
.subtitle, .note { color: var(--muted); }
nav ol { columns: 2; margin: 8px 0 0; padding-left: 20px; color: var(--muted); }
nav a { color: inherit; }
table { border-collapse: collapse; margin: 10px 0 16px; font-size: 13px; width: auto; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; caption-side: top; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; }
th { background: #f4f6f8; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
td.proceed { background: var(--proceed); } td.adjust { background: var(--adjust); }
td.pause { background: var(--pause); color: var(--muted); } td.bad { background: var(--bad); }
td.good { background: var(--good); } td.none { color: var(--muted); text-align: center; }
section.box { border: 2px solid var(--ink); border-radius: 6px; padding: 2px 16px 8px; margin-top: 18px; }
figure { margin: 10px 0 16px; } figure img { max-width: 100%; height: auto; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 6px; border: 1px solid var(--line); }
@page { size: auto; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h1 { font-size: 18px; } h2 { font-size: 14px; margin-top: 18px; }
  table { font-size: 10px; }
  nav { display: none; }
  h2 { break-after: avoid; }
  table, figure { break-inside: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  td.proceed, td.adjust, td.pause, td.bad, td.good, th { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(text: Any) -> str:
    return html.escape(visible(str(text)), quote=True)


def _numeric(text: str) -> bool:
    head = text.strip()[:1]
    return head.isdigit() or (head in "-+" and text.strip()[1:2].isdigit())


def _html_table(t: Table) -> str:
    df = t.frame
    named = [n for n in df.index.names if n is not None]
    flat = df.reset_index() if named else df
    head_cols = [str(c) for c in flat.columns]
    out = ["<table>"]
    if t.caption:
        out.append(f"<caption>{_e(t.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{_e(c)}</th>' for c in head_cols) + "</tr></thead><tbody>")
    classes = t.classes
    for r, row in enumerate(flat.itertuples(index=False, name=None)):
        cells = []
        for c, value in enumerate(row):
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
            kinds = []
            col = flat.columns[c]
            if c < len(named):
                cells.append(f'<th scope="row">{_e(text)}</th>')
                continue
            if classes is not None and col in classes.columns:
                extra = str(classes.iloc[r][col])
                if extra:
                    kinds.append(extra)
            if _numeric(text):
                kinds.append("num")
            attr = f' class="{" ".join(kinds)}"' if kinds else ""
            cells.append(f"<td{attr}>{_e(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS, charts as SVG data, no scripts, no requests)."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(report.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
           f"<header><h1>{_e(report.title)}</h1>", f'<p class="subtitle">{_e(report.subtitle)}</p>']
    out += [f'<p class="note">{_e(n)}</p>' for n in report.notes]
    out.append("</header>")
    out.append('<nav aria-label="Contents"><ol>' + "".join(
        f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a></li>' for s in report.sections) + "</ol></nav>")
    for s in report.sections:
        out.append(f'<section id="{_e(s.key)}"' + (' class="box">' if s.key == SIGN_KEY else ">"))
        out.append(f"<h2>{_e(s.title)}</h2>")
        out += [f"<p>{_e(p)}</p>" for p in s.prose]
        if s.key == "gates":
            out.append('<p class="legend"><span class="proceed" style="background:var(--proceed)">proceed</span>'
                       '<span style="background:var(--adjust)">adjust to a smaller scale</span>'
                       '<span style="background:var(--pause)">pause</span>'
                       f'<span>{NO_STAGE} no stage of the initiative in this phase</span></p>')
        for chart in s.charts:
            if chart.svg is not None:
                out.append(f'<figure><figcaption>{_e(chart.title)}</figcaption>'
                           f'<img src="{_data_uri(chart.svg)}" alt="{_e(chart.alt)}"></figure>')
        out += [_html_table(t) for t in s.tables]
        out.append("</section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# -- Markdown

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]{}#|!"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"})


def md(text: Any) -> str:
    """Text safe in Markdown: no emphasis, links, table breaks or inline HTML from a name."""
    return " ".join(visible(str(text)).split("\n")).translate(_MD_SPECIAL)


def _md_table(t: Table) -> str:
    df = t.frame
    flat = df.reset_index() if any(n is not None for n in df.index.names) else df
    head = [md(c) for c in flat.columns]
    lines = []
    if t.caption:
        lines.append(f"*{md(t.caption)}*\n")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(" ---: " if _numeric(str(flat.iloc[0, k])) and k else " --- "
                                for k in range(len(head))) + "|" if len(flat) else "|" + "---|" * len(head))
    for row in flat.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(md("" if v is None else v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(report: Report) -> str:
    """The report as one Markdown file (charts embedded as SVG data, so the file stands alone)."""
    out = [f"# {md(report.title)}", "", md(report.subtitle), ""]
    out += [f"> {md(n)}\n" for n in report.notes]
    for s in report.sections:
        out += [f'<a id="{_e(s.key)}"></a>', f"## {md(s.title)}", ""]
        out += [md(p) + "\n" for p in s.prose]
        for chart in s.charts:
            if chart.svg is not None:
                out.append(f"![{md(chart.alt)}]({_data_uri(chart.svg)})\n")
        out += [_md_table(t) for t in s.tables]
    return "\n".join(out).rstrip() + "\n"

