"""The study's results as typed records: tables, figures, claims, the whole study.

:func:`~fairrep.experiments.run_study` returns a :class:`Study`;
:func:`~fairrep.experiments.write_report` renders one as it is. A study
written by hand as a dict is checked once, by :meth:`Study.from_dict`, whose
errors name the offending key. Every record reads like the dict it replaces
(``study["tables"][0]["mean"]``) and :meth:`~Record.to_dict` gives that dict.

The three states of a claim (:data:`CLAIM_STATES`) are defined here and
nowhere else.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["CLAIM_STATES", "Claim", "ClaimState", "Figure", "Record", "Study", "Table",
           "Verdict", "claim_state", "json_ready", "untested_evidence"]

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ClaimState:
    """How a verdict reads: ``key`` (CSS class, console), ``text``, and its marks."""

    key: str
    text: str
    html_mark: str
    markdown_mark: str

    @property
    def html(self):
        return f"{self.html_mark} {self.text}"

    @property
    def markdown(self):
        return f"{self.markdown_mark} {self.text}"


#: A claim holds (True), does not hold (False) or was not tested (None).
CLAIM_STATES = {
    True: ClaimState("holds", "holds", "✔", "✅"),
    False: ClaimState("fails", "does not hold", "✘", "❌"),
    None: ClaimState("untested", "not tested", "–", "➖"),
}


def claim_state(holds):
    """The :class:`ClaimState` of a verdict (True, False or None)."""
    return CLAIM_STATES[None if holds is None else bool(holds)]


def untested_evidence(reason):
    """The evidence of a claim this run cannot test."""
    return f"{CLAIM_STATES[None].text}: {reason}"


class Record(Mapping):
    """Read access by field name, as the dicts these records replace had."""

    #: Fields left out of the mapping (and of :meth:`to_dict`) while None.
    _optional = ()

    def _names(self):
        return [f.name for f in fields(self)
                if not (f.name in self._optional and getattr(self, f.name) is None)]

    def __getitem__(self, key):
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    def to_dict(self):
        """The record as a plain dict (nested records as dicts too)."""
        return {name: _plain(getattr(self, name)) for name in self._names()}


def _plain(value):
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass(eq=False)
class Table(Record):
    """One table of the report: fold means (and stds) with one column per method."""

    key: str
    title: str
    caption: str
    mean: pd.DataFrame
    std: pd.DataFrame = None
    decimals: int = 3
    lower_is_better: bool = False


@dataclass(eq=False)
class Figure(Record):
    """One figure of the report: a :class:`matplotlib.figure.Figure` with its texts."""

    key: str
    title: str
    caption: str
    figure: object


@dataclass(eq=False)
class Verdict(Record):
    """A claim's verdict under one configuration."""

    holds: bool = None
    evidence: str = ""


@dataclass(eq=False)
class Claim(Record):
    """One of the paper's claims with its verdict on a run and the numbers behind it.

    ``by_config`` (configuration -> :class:`Verdict`) and ``holds_for``
    ("both", a configuration's name, "neither" or "untested") are set for a
    study run under several configurations.
    """

    claim: str
    holds: bool = None
    evidence: str = ""
    by_config: dict = None
    holds_for: str = None
    _optional = ("by_config", "holds_for")


@dataclass(eq=False)
class Study(Record):
    """What :func:`~fairrep.experiments.run_study` returns and the report renders.

    Attributes
    ----------
    title : str
    meta : dict
        JSON-ready settings of the run.
    tables : list of Table
    figures : list of Figure
    claims : list of Claim
    notes : list of str
    results : dict of str to pandas.DataFrame, optional
        The long result tables (absent from a study written by hand).
    """

    title: str
    meta: dict
    tables: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    claims: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    results: dict = None
    _optional = ("results",)

    @classmethod
    def from_dict(cls, study):
        """A :class:`Study` from a study as a dict (see ``write_report``), checked.

        A :class:`Study` is returned as it is.

        Raises
        ------
        TypeError, ValueError
            When ``study`` breaks the contract of ``write_report``; the
            message names the key.
        """
        if isinstance(study, Study):
            return study
        if not isinstance(study, Mapping):
            raise TypeError(f"study must be a dict; got {type(study).__name__}.")
        absent = [key for key in _STUDY_KEYS if key not in study]
        if absent:
            raise ValueError(
                f"study lacks the key(s) {absent}; expected keys {list(_STUDY_KEYS)}."
            )
        for key, (kind, expected) in _STUDY_KEYS.items():
            if not isinstance(study[key], kind):
                raise TypeError(
                    f"study[{key!r}] must be {expected}; got {type(study[key]).__name__}."
                )
        tables = [_table(entry, i) for i, entry in enumerate(study["tables"])]
        figures = [_figure(entry, i) for i, entry in enumerate(study["figures"])]
        for kind, entries in (("tables", tables), ("figures", figures)):
            keys = [entry.key for entry in entries]
            repeated = sorted({key for key in keys if keys.count(key) > 1})
            if repeated:
                raise ValueError(f"study[{kind!r}] repeats the key(s) {repeated}.")
        claims = [_claim(entry, i) for i, entry in enumerate(study["claims"])]
        for i, note in enumerate(study["notes"]):
            if not isinstance(note, str):
                raise TypeError(
                    f"study['notes'][{i}] must be a str; got {type(note).__name__}."
                )
        return cls(study["title"], json_ready(study["meta"], "study['meta']"), tables,
                   figures, claims, list(study["notes"]), study.get("results"))


# --------------------------------------------------------------------------
# Checks of a study written as a dict
# --------------------------------------------------------------------------

_STUDY_KEYS = {
    "title": (str, "a str"),
    "meta": (Mapping, "a dict of JSON-able settings"),
    "tables": (list, "a list of table dicts"),
    "figures": (list, "a list of figure dicts"),
    "claims": (list, "a list of claim dicts"),
    "notes": (list, "a list of str"),
}


def _text(entry, name, where, *, optional=False):
    """``entry[name]`` as a str ("" when optional and absent); the error names ``where``."""
    if name not in entry:
        if optional:
            return ""
        raise ValueError(f"{where} lacks the key {name!r}.")
    value = entry[name]
    if not isinstance(value, str):
        raise TypeError(f"{where}[{name!r}] must be a str; got {type(value).__name__}.")
    return value


def _entry(entry, where, required):
    """Raise unless ``entry`` is a mapping with every ``required`` key."""
    if not isinstance(entry, Mapping):
        raise TypeError(f"{where} must be a dict; got {type(entry).__name__}.")
    absent = [key for key in required if key not in entry]
    if absent:
        raise ValueError(f"{where} lacks the key(s) {absent}.")


def _key(value, where):
    if not isinstance(value, str) or not _KEY_PATTERN.match(value):
        raise ValueError(
            f"{where} must be a file-safe id (letters, digits, '_', '.', '-', not "
            f"starting with a punctuation mark); got {value!r}."
        )
    return value


def column_label(column):
    """A column label as text (a tuple's parts joined by " / ")."""
    if isinstance(column, tuple):
        return " / ".join(str(part) for part in column)
    return str(column)


def index_names(index):
    """Field names of the row index levels (``level_<i>`` for unnamed ones)."""
    if index.nlevels == 1:
        return [str(index.name) if index.name is not None else "index"]
    return [str(name) if name is not None else f"level_{i}"
            for i, name in enumerate(index.names)]


def _numeric_frame(frame, where):
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{where} must be a pandas DataFrame; got {type(frame).__name__}.")
    if frame.shape[1] == 0:
        raise ValueError(f"{where} has no columns.")
    for column in frame.columns:
        dtype = frame[column].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise TypeError(f"{where} must hold numbers; column {column!r} has dtype {dtype}.")
    labels = [column_label(column) for column in frame.columns]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{where} has repeated column labels {labels}.")
    if not frame.index.is_unique:
        raise ValueError(f"{where} has repeated row labels.")
    clash = set(labels) & set(index_names(frame.index))
    if clash:
        raise ValueError(
            f"{where}: the row index level(s) {sorted(clash)} share a name with a "
            "column; rename one so that the JSON records stay unambiguous."
        )


def _table(entry, position):
    where = f"study['tables'][{position}]"
    _entry(entry, where, ("key", "title", "caption", "mean"))
    key = _key(entry["key"], f"{where}['key']")
    title, caption = _text(entry, "title", where), _text(entry, "caption", where)
    mean, std = entry["mean"], entry.get("std")
    _numeric_frame(mean, f"{where}['mean']")
    if std is not None:
        _numeric_frame(std, f"{where}['std']")
        if std.shape != mean.shape:
            raise ValueError(f"{where}['std'] has shape {std.shape} but 'mean' has "
                             f"{mean.shape}; they must match cell for cell.")
        if not (std.index.equals(mean.index) and std.columns.equals(mean.columns)):
            raise ValueError(f"{where}['std'] must have the same row and column labels "
                             "as 'mean'.")
    decimals = entry.get("decimals", 3)
    if not isinstance(decimals, Integral) or isinstance(decimals, bool) or decimals < 0:
        raise ValueError(f"{where}['decimals'] must be an int >= 0; got {decimals!r}.")
    lower = entry.get("lower_is_better", False)
    if not isinstance(lower, (bool, np.bool_)):
        raise TypeError(f"{where}['lower_is_better'] must be a bool; got {lower!r}.")
    return Table(key, title, caption, mean, std, int(decimals), bool(lower))


def _figure(entry, position):
    from ._figures import _figure_class

    where = f"study['figures'][{position}]"
    _entry(entry, where, ("key", "title", "caption", "figure"))
    key = _key(entry["key"], f"{where}['key']")
    title, caption = _text(entry, "title", where), _text(entry, "caption", where)
    if not isinstance(entry["figure"], _figure_class("reports with figures")):
        raise TypeError(f"{where}['figure'] must be a matplotlib.figure.Figure; got "
                        f"{type(entry['figure']).__name__}.")
    return Figure(key, title, caption, entry["figure"])


def _verdict(holds, where):
    if holds is not None and not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"{where} must be True, False or None (not tested); got {holds!r}.")
    return None if holds is None else bool(holds)


def _claim(entry, position):
    where = f"study['claims'][{position}]"
    _entry(entry, where, ("claim", "holds"))
    claim = Claim(_text(entry, "claim", where), _verdict(entry["holds"], f"{where}['holds']"),
                  _text(entry, "evidence", where, optional=True))
    by_config = entry.get("by_config")
    if by_config is not None:
        if not isinstance(by_config, Mapping) or not by_config:
            raise TypeError(
                f"{where}['by_config'] must be a non-empty dict of configuration -> "
                f"{{'holds', 'evidence'}}; got {by_config!r}."
            )
        claim.by_config = {}
        for config, verdict in by_config.items():
            inner = f"{where}['by_config'][{config!r}]"
            _entry(verdict, inner, ("holds",))
            claim.by_config[str(config)] = Verdict(
                _verdict(verdict["holds"], f"{inner}['holds']"),
                _text(verdict, "evidence", inner, optional=True),
            )
        claim.holds_for = _text(entry, "holds_for", where, optional=True)
    return claim


def json_ready(value, where):
    """A JSON-ready copy of a settings value (numpy scalars and arrays unwrapped)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return [json_ready(item, where) for item in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): json_ready(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item, where) for item in value]
    if isinstance(value, Path):
        return str(value)
    raise TypeError(
        f"{where} must be JSON-able (str, number, bool, None, list, dict); got "
        f"{type(value).__name__}."
    )
