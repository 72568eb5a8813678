"""Checks of arguments that name things: one name or a sequence of distinct names."""

__all__ = ["check_distinct_names"]


def check_distinct_names(value, argument, *, expected, kind, valid=None):
    """``value`` (one name or a sequence of names) as a tuple of distinct names.

    Parameters
    ----------
    value : str or sequence of str
        A single string stands for a one-name sequence.
    argument : str
        The argument's name, for messages.
    expected : str
        What the names must be, for messages (e.g. "pools from ['audiovisual',
        'voice']").
    kind : str
        What one name names (e.g. "pool"), for the message on a repeat.
    valid : collection of str, default=None
        The names allowed; None allows any non-empty string.

    Returns
    -------
    names : tuple of str

    Raises
    ------
    ValueError
        When ``value`` is no sequence, is empty, holds something other than
        an allowed non-empty string, or names something twice.
    """
    given = (value,) if isinstance(value, str) else value
    try:
        names = tuple(given)
    except TypeError:
        names = ()
    if not names or not all(
        isinstance(name, str) and name and (valid is None or name in valid)
        for name in names
    ):
        raise ValueError(
            f"{argument} must be a non-empty sequence of {expected}; got {given!r}."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"{argument} names a {kind} twice: {names!r}.")
    return names
