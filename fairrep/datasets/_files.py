"""Reading the corpora's tables: every malformed file is named, never skipped.

The loaders read tables that users copy by hand from several sources; a file
cut short by an interrupted copy, a file saved with other columns or an
empty file must stop the loader with a message that names the file and what
was expected, not surface pandas' ``EmptyDataError`` or a ``KeyError``, and
never load as a smaller corpus.
"""

import pandas as pd

from ..exceptions import CorpusFormatError

__all__ = ["read_table"]


def read_table(path, *, what, columns, required_values=(), **read_csv_kwargs):
    """Read a CSV (or TSV) table of a corpus, checking its layout.

    Parameters
    ----------
    path : pathlib.Path
    what : str
        What the file is, for messages (e.g. "CREMA-D's tabulatedVotes.csv,
        one row per clip and rater pool").
    columns : iterable of str
        Columns the file must have.
    required_values : iterable of str, default=()
        Columns that must be filled in every row; an empty cell there
        usually is a row cut short.
    **read_csv_kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    table : pandas.DataFrame
        At least one row.

    Raises
    ------
    fairrep.exceptions.CorpusFormatError
        If the file is empty, cannot be parsed, lacks a column, has no row, or
        has an empty required cell (naming its line).
    """
    columns = list(columns)
    expected = f"expected {what} with the columns {columns}"
    try:
        table = pd.read_csv(path, **read_csv_kwargs)
    except pd.errors.EmptyDataError as error:
        raise CorpusFormatError(f"{path} is empty; {expected}.") from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise CorpusFormatError(
            f"{path} cannot be parsed (truncated or malformed?): {error}. {expected}."
        ) from error
    table.columns = [str(column).strip() for column in table.columns]
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise CorpusFormatError(
            f"{path} lacks the columns {missing}; {expected} (found "
            f"{list(table.columns)[:10]})."
        )
    if len(table) == 0:
        raise CorpusFormatError(f"{path} has a header but no rows; {expected}.")
    for column in required_values:
        empty = table[column].isna().to_numpy()
        if empty.any():
            row = int(empty.argmax())
            header_lines = 0 if read_csv_kwargs.get("header", 0) is None else 1
            raise CorpusFormatError(
                f"{path}:{row + 1 + header_lines}: empty {column!r} in row {row + 1} "
                f"({int(empty.sum())} such row(s); a truncated file?); every row of "
                f"{what} needs {list(required_values)}."
            )
    return table
