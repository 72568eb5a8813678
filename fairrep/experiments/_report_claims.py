"""The claims section of the study's report, and the checks and escaping it shares.

Each claim is a statement of the paper with its verdict on one run (holds,
does not hold, not tested) and the numbers behind it; a study run under
several configurations (:func:`~fairrep.experiments.run_study`'s
``configs``) adds one verdict per configuration and says where the claim
holds.
"""

import html
from collections.abc import Mapping

import numpy as np

_CLAIM_MARKS = {
    True: ("holds", "✔ holds"),
    False: ("fails", "✘ does not hold"),
    None: ("untested", "– not tested"),
}
_CLAIM_MARKS_MD = {True: "✅ holds", False: "❌ does not hold", None: "➖ not tested"}


def check_text(entry, field, where, *, optional=False):
    """``entry[field]`` as a str ("" when optional and absent); the error names ``where``."""
    if field not in entry:
        if optional:
            return ""
        raise ValueError(f"{where} lacks the key {field!r}.")
    value = entry[field]
    if not isinstance(value, str):
        raise TypeError(
            f"{where}[{field!r}] must be a str; got {type(value).__name__}."
        )
    return value


def check_entry(entry, where, required):
    """A dict with every ``required`` key; the error names ``where``."""
    if not isinstance(entry, Mapping):
        raise TypeError(f"{where} must be a dict; got {type(entry).__name__}.")
    absent = [key for key in required if key not in entry]
    if absent:
        raise ValueError(f"{where} lacks the key(s) {absent}.")


def check_claim(entry, position):
    """One claim of ``study["claims"]``, checked and normalised (see ``write_report``)."""
    where = f"study['claims'][{position}]"
    check_entry(entry, where, ("claim", "holds"))
    claim = check_text(entry, "claim", where)
    evidence = check_text(entry, "evidence", where, optional=True)
    holds = _check_verdict(entry["holds"], f"{where}['holds']")
    checked = {"claim": claim, "holds": holds, "evidence": evidence}
    by_config = entry.get("by_config")
    if by_config is not None:
        if not isinstance(by_config, Mapping) or not by_config:
            raise TypeError(
                f"{where}['by_config'] must be a non-empty dict of configuration -> "
                f"{{'holds', 'evidence'}}; got {by_config!r}."
            )
        checked["by_config"] = {}
        for config, verdict in by_config.items():
            inner = f"{where}['by_config'][{config!r}]"
            check_entry(verdict, inner, ("holds",))
            checked["by_config"][str(config)] = {
                "holds": _check_verdict(verdict["holds"], f"{inner}['holds']"),
                "evidence": check_text(verdict, "evidence", inner, optional=True),
            }
        checked["holds_for"] = check_text(entry, "holds_for", where, optional=True)
    return checked


def _check_verdict(holds, where):
    if holds is not None and not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"{where} must be True, False or None (not tested); got {holds!r}.")
    return None if holds is None else bool(holds)


def _claim_configs(claims):
    """The configurations the claims were checked under, in order (empty: none)."""
    configs = []
    for claim in claims:
        for config in claim.get("by_config", {}):
            if config not in configs:
                configs.append(config)
    return configs


def esc(text):
    """HTML-escaped text, quotes included."""
    return html.escape(str(text), quote=True)


def html_claims(claims):
    """The claims table as HTML: one status column, or one per configuration."""
    if not claims:
        return '<p class="empty">No claims were checked.</p>'
    configs = _claim_configs(claims)
    out = ['<table class="claims" id="claims-table">']
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
            verdicts = claim.get("by_config", {})
            cells = f'<td class="status">{esc(claim.get("holds_for", ""))}</td>'
            for config in configs:
                css, mark = _CLAIM_MARKS[verdicts.get(config, {}).get("holds")]
                cells += f'<td class="status {css}">{esc(mark)}</td>'
            evidence = "<br>".join(
                f"<strong>{esc(c)}</strong>: {esc(v['evidence'])}"
                for c, v in verdicts.items()
            ) or esc(claim["evidence"])
        else:
            css, mark = _CLAIM_MARKS[claim["holds"]]
            cells = f'<td class="status {css}">{esc(mark)}</td>'
            evidence = esc(claim["evidence"])
        out.append(f"<tr>{cells}<td>{esc(claim['claim'])}</td><td>{evidence}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def md(text):
    """Inline Markdown text: HTML-escaped, one line."""
    return html.escape(" ".join(str(text).split()), quote=False)


def md_cell(text):
    """:func:`md` text safe in a Markdown table cell."""
    return md(text).replace("|", "\\|")


def markdown_claims(claims):
    """The claims table as Markdown lines."""
    out = []
    configs = _claim_configs(claims)
    if claims and configs:
        out.append("| Holds for | " + " | ".join(md_cell(c) for c in configs)
                   + " | Claim | Evidence from this run |")
        out.append("| --- " * (len(configs) + 3) + "|")
        for claim in claims:
            verdicts = claim.get("by_config", {})
            marks = " | ".join(_CLAIM_MARKS_MD[verdicts.get(c, {}).get("holds")]
                               for c in configs)
            evidence = "<br>".join(f"**{md_cell(c)}**: {md_cell(v['evidence'])}"
                                   for c, v in verdicts.items())
            out.append(
                f"| {md_cell(claim.get('holds_for', ''))} | {marks} | "
                f"{md_cell(claim['claim'])} | {evidence} |"
            )
    elif claims:
        out.append("| Status | Claim | Evidence from this run |")
        out.append("| --- | --- | --- |")
        for claim in claims:
            out.append(
                f"| {_CLAIM_MARKS_MD[claim['holds']]} | {md_cell(claim['claim'])} | "
                f"{md_cell(claim['evidence'])} |"
            )
    else:
        out.append("_No claims were checked._")
    return out
