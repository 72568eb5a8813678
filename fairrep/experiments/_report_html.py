"""The report as one self-contained HTML page (inline CSS and figures).

Wide tables scroll inside their own box (``div.table-scroll``,
``overflow-x: auto``) instead of running off the page.
"""

import base64

from ._report_format import (
    claim_configs,
    esc,
    meta_text,
    row_label_display,
    table_cells,
)
from ._results import claim_state, column_label, index_names

__all__ = ["html_page"]


_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; line-height: 1.45; color: #1b1b1b; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #d0d7de; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap;
         gap: 0.4rem 1.2rem; }
nav a { color: #0550ae; text-decoration: none; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 0.6rem 0 1.6rem; font-size: 0.92rem; }
div.table-scroll { max-width: 100%; overflow-x: auto; }
caption { caption-side: top; text-align: left; padding: 0 0 0.4rem; max-width: 60rem; }
caption .title { font-weight: 600; display: block; }
caption .text { color: #444; }
th, td { border: 1px solid #b8c0c8; padding: 0.25rem 0.6rem; vertical-align: top; }
thead th { background: #e8edf2; text-align: center; }
tbody th { text-align: left; font-weight: 600; background: #f6f8fa; }
tbody tr:nth-child(even) td { background: #f3f6f9; }
tbody tr.group-start > * { border-top: 2px solid #6e7781; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num strong { color: #000; }
td.missing { color: #8c959f; }
table.claims td { max-width: 34rem; }
td.status { white-space: nowrap; font-weight: 600; }
td.status.holds { color: #116329; }
td.status.fails { color: #a40e26; }
td.status.untested { color: #57606a; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace;
             font-size: 0.88rem; overflow-wrap: anywhere; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
figcaption { margin-top: 0.4rem; color: #444; max-width: 60rem; }
figcaption .title { font-weight: 600; color: #1b1b1b; }
p.empty { color: #57606a; font-style: italic; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  table, figure, dl { break-inside: avoid; }
  tbody tr:nth-child(even) td { background: #f3f3f3 !important;
                                -webkit-print-color-adjust: exact;
                                print-color-adjust: exact; }
}
"""


def _html_table(table):
    rows = table_cells(table)
    names = index_names(table.mean.index)
    shown, starts = row_label_display(rows)
    out = [f'<div class="table-scroll"><table class="results" id="table-{esc(table.key)}">']
    out.append(
        f'<caption><span class="title">{esc(table.title)}</span>'
        f'<span class="text">{esc(table.caption)}</span></caption>'
    )
    header = "".join(f'<th scope="col">{esc(name)}</th>' for name in names)
    header += "".join(
        f'<th scope="col">{esc(column_label(c))}</th>' for c in table.mean.columns
    )
    out.append(f"<thead><tr>{header}</tr></thead>")
    out.append("<tbody>")
    for (_, cells), labels, start in zip(rows, shown, starts):
        attributes = ' class="group-start"' if start else ""
        line = "".join(f'<th scope="row">{esc(value)}</th>' for value in labels)
        for text, best, missing in cells:
            classes = "num missing" if missing else "num"
            body = f"<strong>{esc(text)}</strong>" if best else esc(text)
            line += f'<td class="{classes}">{body}</td>'
        out.append(f"<tr{attributes}>{line}</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _status_cell(holds):
    state = claim_state(holds)
    return f'<td class="status {state.key}">{esc(state.html)}</td>'


def _html_claims(claims):
    """The claims table as HTML: one status column, or one per configuration."""
    if not claims:
        return '<p class="empty">No claims were checked.</p>'
    configs = claim_configs(claims)
    out = ['<div class="table-scroll"><table class="claims" id="claims-table">']
    if configs:
        heads = "".join(f'<th scope="col">{esc(c)}</th>' for c in configs)
        out.append(
            f'<thead><tr><th scope="col">Holds for</th>{heads}<th scope="col">Claim</th>'
            '<th scope="col">Evidence from this run</th></tr></thead><tbody>'
        )
    else:
        out.append(
            '<thead><tr><th scope="col">Status</th><th scope="col">Claim</th>'
            '<th scope="col">Evidence from this run</th></tr></thead><tbody>'
        )
    for claim in claims:
        if configs:
            verdicts = claim.by_config or {}
            cells = f'<td class="status">{esc(claim.holds_for or "")}</td>'
            for config in configs:
                cells += _status_cell(verdicts[config].holds if config in verdicts else None)
            evidence = "<br>".join(
                f"<strong>{esc(c)}</strong>: {esc(v.evidence)}" for c, v in verdicts.items()
            ) or esc(claim.evidence)
        else:
            cells = _status_cell(claim.holds)
            evidence = esc(claim.evidence)
        out.append(f"<tr>{cells}<td>{esc(claim.claim)}</td><td>{evidence}</td></tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def html_page(study, images):
    """The page of a :class:`~fairrep.experiments._results.Study`; ``images``: its PNGs."""
    title = esc(study.title)
    sections = [("claims", "Claims")]
    if study.tables:
        sections.append(("tables", "Tables"))
    if study.figures:
        sections.append(("figures", "Figures"))
    sections.append(("settings", "Settings"))
    if study.notes:
        sections.append(("notes", "Notes"))

    body = [f"<h1>{title}</h1>"]
    body.append(
        '<nav aria-label="contents"><ul>'
        + "".join(
            f'<li><a href="#{anchor}">{name}</a></li>' for anchor, name in sections
        )
        + "</ul></nav>"
    )
    body.append('<section id="claims"><h2>Claims</h2>')
    body.append(_html_claims(study.claims))
    body.append("</section>")
    if study.tables:
        body.append('<section id="tables"><h2>Tables</h2>')
        body.extend(_html_table(table) for table in study.tables)
        body.append("</section>")
    if study.figures:
        body.append('<section id="figures"><h2>Figures</h2>')
        for figure, png in zip(study.figures, images):
            alt = figure.title + (
                f": {figure.caption}" if figure.caption else ""
            )
            data = base64.b64encode(png).decode("ascii")
            body.append(
                f'<figure id="figure-{esc(figure.key)}">'
                f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
                f'<figcaption><span class="title">{esc(figure.title)}.</span> '
                f"{esc(figure.caption)}</figcaption></figure>"
            )
        body.append("</section>")
    body.append('<section id="settings"><h2>Settings</h2>')
    if study.meta:
        body.append('<dl class="meta">')
        for key, value in study.meta.items():
            body.append(f"<dt>{esc(key)}</dt><dd>{esc(meta_text(value))}</dd>")
        body.append("</dl>")
    else:
        body.append('<p class="empty">No settings were recorded.</p>')
    body.append("</section>")
    if study.notes:
        body.append('<section id="notes"><h2>Notes</h2>')
        body.extend(f"<p>{esc(note)}</p>" for note in study.notes)
        body.append("</section>")

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
