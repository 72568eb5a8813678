"""Names of things: checks of name arguments, the display name of a set of groups."""

__all__ = ["GROUP_SEPARATOR", "check_distinct_names", "join_group_names"]

#: Separator of the names in the display string of several groups: an
#: intersectional group (one name per sensitive column, as fairlearn writes
#: it) and a strict-split perspective naming several rater groups.
GROUP_SEPARATOR = ","


def join_group_names(names):
    """The display string of several group names, in the order given.

    The one place where several groups become one string; code that needs
    the groups keeps them as a sequence and never parses this string back.

    >>> join_group_names(["F", "young"])
    'F,young'
    """
    return GROUP_SEPARATOR.join(str(name) for name in names)


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
