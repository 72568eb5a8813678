"""What the report's renderers share: cell texts, row labels, escaping.

:func:`table_cells` formats a :class:`~fairrep.experiments._results.Table`
(mean ± std, the best cell of a row marked, "–" where a value is missing)
and :func:`row_label_display` its row labels as the paper lays them out;
the HTML, Markdown and JSON renderers read the same cells.
"""

import html
import json
import math

__all__ = ["MISSING", "claim_configs", "esc", "md", "md_cell", "meta_text", "number",
           "row_label_display", "table_cells"]

MISSING = "–"  # en dash: a cell without a value


def _is_missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value):
    """A JSON-ready float (None for NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _format(value, decimals):
    if _is_missing(value):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{decimals}f}"


def table_cells(table):
    """Per row: row labels and, per column, (text, is_best, is_missing)."""
    mean = table.mean.to_numpy(dtype=float)
    std = None if table.std is None else table.std.to_numpy(dtype=float)
    decimals = table.decimals
    rows = []
    for i, label in enumerate(table.mean.index):
        labels = list(label) if isinstance(label, tuple) else [label]
        values = mean[i]
        rounded = [None if math.isnan(v) else round(v, decimals) for v in values]
        present = [v for v in rounded if v is not None]
        best = None
        if len(present) >= 2:
            best = min(present) if table.lower_is_better else max(present)
        cells = []
        for j, value in enumerate(values):
            missing = math.isnan(value)
            text = _format(value, decimals)
            if not missing and std is not None and not math.isnan(std[i, j]):
                text += f" ± {_format(std[i, j], decimals)}"
            cells.append((text, best is not None and rounded[j] == best, missing))
        rows.append((labels, cells))
    return rows


def row_label_display(rows):
    """Row labels, a value repeated from the row above left blank (as in the paper)."""
    shown, starts = [], []
    previous = None
    for labels, _ in rows:
        display = []
        same_so_far = previous is not None
        for level, value in enumerate(labels):
            same_so_far = same_so_far and previous[level] == value
            # The last level is always written; a blank there would hide the row.
            display.append(
                "" if same_so_far and level < len(labels) - 1 else str(value)
            )
        # A thicker rule above each new outer-level group (the paper's emotions).
        starts.append(
            len(labels) > 1 and previous is not None and previous[0] != labels[0]
        )
        shown.append(display)
        previous = labels
    return shown, starts


def meta_text(value):
    """A setting's value as text (JSON for anything but a str)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def claim_configs(claims):
    """The configurations the claims were checked under, in order (empty: none)."""
    configs = []
    for claim in claims:
        for config in claim.by_config or {}:
            if config not in configs:
                configs.append(config)
    return configs


def esc(text):
    """HTML-escaped text, quotes included."""
    return html.escape(str(text), quote=True)


def md(text):
    """Inline Markdown text: HTML-escaped, one line."""
    return html.escape(" ".join(str(text).split()), quote=False)


def md_cell(text):
    """:func:`md` text safe in a Markdown table cell."""
    return md(text).replace("|", "\\|")
