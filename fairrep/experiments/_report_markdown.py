"""The report in GitHub Markdown, the figures linked from ``figures/``."""

from ._report_format import (
    claim_configs,
    md,
    md_cell,
    meta_text,
    row_label_display,
    table_cells,
)
from ._results import claim_state, column_label, index_names

__all__ = ["markdown_page"]


def _md_table(table):
    rows = table_cells(table)
    names = index_names(table.mean.index)
    shown, _ = row_label_display(rows)
    header = names + [column_label(c) for c in table.mean.columns]
    lines = [
        "| " + " | ".join(md_cell(h) for h in header) + " |",
        "| "
        + " | ".join([":---"] * len(names) + ["---:"] * (len(header) - len(names)))
        + " |",
    ]
    for (_, cells), labels in zip(rows, shown):
        values = [md_cell(value) for value in labels]
        values += [
            f"**{md_cell(t)}**" if best else md_cell(t) for t, best, _ in cells
        ]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def markdown_page(study, figure_files):
    """The report of a :class:`~fairrep.experiments._results.Study` in GitHub Markdown."""
    out = [f"# {md(study.title)}", "", "## Claims", ""]
    out += _markdown_claims(study.claims)
    if study.tables:
        out += ["", "## Tables"]
        for table in study.tables:
            out += ["", f"### {md(table.title)}", ""]
            if table.caption:
                out += [md(table.caption), ""]
            out.append(_md_table(table))
    if study.figures:
        out += ["", "## Figures"]
        for figure, name in zip(study.figures, figure_files):
            alt = md(figure.title).replace("[", "\\[").replace("]", "\\]")
            out += [
                "",
                f"### {md(figure.title)}",
                "",
                f"![{alt}](figures/{name})",
                "",
            ]
            if figure.caption:
                out.append(md(figure.caption))
    out += ["", "## Settings", ""]
    if study.meta:
        for key, value in study.meta.items():
            out.append(f"- **{md(key)}**: `{meta_text(value).replace('`', chr(39))}`")
    else:
        out.append("_No settings were recorded._")
    if study.notes:
        out += ["", "## Notes"]
        for note in study.notes:
            out += ["", md(note)]
    return "\n".join(out) + "\n"


def _markdown_claims(claims):
    """The claims table as Markdown lines."""
    out = []
    configs = claim_configs(claims)
    if claims and configs:
        out.append("| Holds for | " + " | ".join(md_cell(c) for c in configs)
                   + " | Claim | Evidence from this run |")
        out.append("| --- " * (len(configs) + 3) + "|")
        for claim in claims:
            verdicts = claim.by_config or {}
            marks = " | ".join(
                claim_state(verdicts[c].holds if c in verdicts else None).markdown
                for c in configs)
            evidence = "<br>".join(f"**{md_cell(c)}**: {md_cell(v.evidence)}"
                                   for c, v in verdicts.items())
            out.append(
                f"| {md_cell(claim.holds_for or '')} | {marks} | "
                f"{md_cell(claim.claim)} | {evidence} |"
            )
    elif claims:
        out.append("| Status | Claim | Evidence from this run |")
        out.append("| --- | --- | --- |")
        for claim in claims:
            out.append(
                f"| {claim_state(claim.holds).markdown} | {md_cell(claim.claim)} | "
                f"{md_cell(claim.evidence)} |"
            )
    else:
        out.append("_No claims were checked._")
    return out
