"""The study's report: one self-contained HTML page, Markdown, JSON and PNG figures.

:func:`write_report` turns the result of a study run (settings, the paper's
tables as mean/std frames, figures, the paper's claims checked against the
run, notes) into files a reader can open anywhere: ``index.html`` carries its
CSS and its figures inline (no network access needed), ``results.md`` renders
on a code-hosting site, ``results.json`` holds every number for further
analysis.
"""

import io
import json
import math
from pathlib import Path

import numpy as np

from ._report_format import number
from ._report_html import html_page
from ._report_markdown import markdown_page
from ._results import Study, column_label, index_names

__all__ = ["write_report"]

#: dpi of the saved figures.
FIGURE_DPI = 110


def _index_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _records(frame):
    names = index_names(frame.index)
    columns = [column_label(c) for c in frame.columns]
    values = frame.to_numpy(dtype=float)
    records = []
    for i, label in enumerate(frame.index):
        labels = label if isinstance(label, tuple) else (label,)
        record = {name: _index_value(v) for name, v in zip(names, labels)}
        record.update({c: number(v) for c, v in zip(columns, values[i])})
        records.append(record)
    return records


def _json_document(study, figure_files):
    return {
        "title": study.title,
        "meta": study.meta,
        "claims": [claim.to_dict() for claim in study.claims],
        "notes": study.notes,
        "tables": [
            {
                "key": table.key,
                "title": table.title,
                "caption": table.caption,
                "decimals": table.decimals,
                "lower_is_better": table.lower_is_better,
                "index": index_names(table.mean.index),
                "columns": [column_label(c) for c in table.mean.columns],
                "mean": _records(table.mean),
                "std": None if table.std is None else _records(table.std),
            }
            for table in study.tables
        ],
        "figures": [
            {
                "key": figure.key,
                "title": figure.title,
                "caption": figure.caption,
                "file": f"figures/{name}",
            }
            for figure, name in zip(study.figures, figure_files)
        ],
    }


def _png_bytes(figure):
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white"
    )
    return buffer.getvalue()


def write_report(study, out):
    """Write the study's results as HTML, Markdown, JSON and PNG figures.

    The report of the reproduction of Chien & Lee, "A Two-Stage Learning
    Strategy for Fair Speech Emotion Recognition": the paper's tables
    (Tables 1-4, section 3.2) as fold means ± standard deviations, its figures
    (Figs. 1, 2, 5, 6), and a list of the paper's qualitative claims with
    whether this run shows them.

    Parameters
    ----------
    study : Study or dict
        What :func:`~fairrep.experiments.run_study` returns, rendered as it
        is; or a dict, checked first, with the keys

        - ``"title"`` (str): page title;
        - ``"meta"`` (dict): JSON-able settings of the run (corpus, features,
          folds, methods, seconds, versions...); numpy scalars and arrays are
          converted, non-finite floats become null;
        - ``"tables"`` (list of dict): each with ``"key"`` (file-safe id),
          ``"title"``, ``"caption"`` (str), ``"mean"`` (DataFrame of
          numbers; rows may be a MultiIndex, columns are usually methods),
          ``"std"`` (DataFrame with the same labels, or None), optional
          ``"decimals"`` (int, default 3) and ``"lower_is_better"`` (bool,
          default False; picks the best cell of each row, shown in bold);
        - ``"figures"`` (list of dict): each with ``"key"``, ``"title"``,
          ``"caption"`` and ``"figure"`` (a :class:`matplotlib.figure.Figure`);
        - ``"claims"`` (list of dict): each with ``"claim"`` (str),
          ``"holds"`` (True, False, or None when this run cannot test it),
          ``"evidence"`` (str, optional) and, for a study run under several
          configurations, ``"by_config"`` (dict of configuration name ->
          ``{"holds", "evidence"}``) and ``"holds_for"`` (str: "both", a
          configuration's name, "neither" or "untested"); the claims table
          then has one status column per configuration and a "Holds for"
          column;
        - ``"notes"`` (list of str): free-text paragraphs.
    out : str or path-like
        Directory to write into; created when missing. Existing files of the
        same names are overwritten.

    Returns
    -------
    paths : dict
        ``{"html": Path, "markdown": Path, "json": Path, "figures": [Path,
        ...]}``: ``index.html``, a self-contained page (inline CSS, figures
        as base64 ``data:`` URIs, no external resource); ``results.md``, the
        same content in GitHub Markdown with the figures linked;
        ``results.json``, every number (per table the mean and std as
        records, one field per row-index level and per column, NaN as null);
        and ``figures/<key>.png`` (110 dpi) per figure, the very bytes the
        page embeds.

    Raises
    ------
    TypeError, ValueError
        When ``study`` breaks the contract above; the message names the key.

    Notes
    -----
    Every user-supplied text is HTML-escaped. Cells without a value are shown
    as "–"; the best cell of a row is chosen among its values rounded to the
    table's decimals (ties are all bold) and only when the row has at least
    two values. The output depends on the input only (no timestamps), so the
    same study writes the same bytes.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from fairrep.experiments import write_report
    >>> mean = pd.DataFrame({"DNN": [0.65, 0.43], "FairRep": [0.35, 0.13]},
    ...                     index=pd.Index(["Neutral", "Happiness"], name="class"))
    >>> study = {"title": "Stage 1", "meta": {"folds": 5},
    ...          "tables": [{"key": "table2", "title": "Statistical parity on S2",
    ...                      "caption": "Lower is fairer.", "mean": mean, "std": None,
    ...                      "lower_is_better": True}],
    ...          "figures": [], "notes": [],
    ...          "claims": [{"claim": "FairRep is fairer than the DNN", "holds": True,
    ...                      "evidence": "0.35 < 0.65 on Neutral"}]}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = write_report(study, folder)
    ...     sorted(p.name for p in paths.values() if not isinstance(p, list))
    ['index.html', 'results.json', 'results.md']
    """
    checked = Study.from_dict(study)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a directory; {out} is a file.")
    figures_dir = out / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)

    images, figure_paths, figure_files = [], [], []
    for figure in checked.figures:
        png = _png_bytes(figure.figure)
        name = f"{figure.key}.png"
        path = figures_dir / name
        path.write_bytes(png)
        images.append(png)
        figure_paths.append(path)
        figure_files.append(name)

    html_path = out / "index.html"
    html_path.write_text(html_page(checked, images), encoding="utf-8")
    md_path = out / "results.md"
    md_path.write_text(markdown_page(checked, figure_files), encoding="utf-8")
    json_path = out / "results.json"
    json_path.write_text(
        json.dumps(
            _json_document(checked, figure_files),
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return {
        "html": html_path,
        "markdown": md_path,
        "json": json_path,
        "figures": figure_paths,
    }
