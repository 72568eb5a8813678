"""Errors and warnings specific to fairrep, for users to catch or filter.

Everything else fairrep raises is a built-in exception (``ValueError`` for a
bad value, ``TypeError`` for a bad type, ``FileNotFoundError`` for a missing
file) whose message names the argument and what was expected; the classes
here mark the failures that deserve their own handling. ``docs/errors.rst``
lists the messages a user meets most and what to do about each.
"""

__all__ = [
    "CorpusFormatError",
    "SensitiveFeaturesMissingWarning",
    "SingleClassPredictionWarning",
    "TrainingDivergedError",
]


class TrainingDivergedError(FloatingPointError, ValueError):
    """Training produced a non-finite loss or non-finite weights.

    Raised by ``fit`` and ``partial_fit`` of the neural estimators
    (:class:`~fairrep.FairRep`, :class:`~fairrep.FairPer`,
    :class:`~fairrep.baselines.DNNClassifier`, :class:`~fairrep.baselines.NRL`)
    at the end of the first epoch whose loss is NaN or infinite, or after
    which a weight is, instead of returning a model whose predictions are
    meaningless. The message names the estimator, the epoch, the learning
    rate ``lr`` and the loss terms; the usual causes are a learning rate too
    large for the data or unscaled features.

    It is a ``FloatingPointError`` (what went wrong) and a ``ValueError``
    (a setting or the data must change), so code that catches either, such
    as a grid search's ``error_score``, handles it.
    """


class SingleClassPredictionWarning(UserWarning):
    """A fitted classifier predicts one class for every training sample.

    Issued at the end of ``fit`` when the model, applied to its own training
    data, predicts a single class although ``y`` has several: training failed
    (too large a learning rate, too few epochs) or a fairness weight made a
    constant prediction optimal. Filter it when that is expected::

        import warnings
        from fairrep.exceptions import SingleClassPredictionWarning
        warnings.filterwarnings("ignore", category=SingleClassPredictionWarning)
    """


class SensitiveFeaturesMissingWarning(UserWarning):
    """``fit`` got no ``sensitive_features``, so the fairness terms are off.

    Issued by :class:`~fairrep.FairRep`, :class:`~fairrep.baselines.NRL` and
    :class:`~fairrep.FairPer` when a fairness weight (``alpha``,
    ``adversary_weight``, ``triplet_weight``) is positive but ``fit`` was
    called without groups: the model is then a plain classifier. Inside a
    ``Pipeline``, ``GridSearchCV`` or ``cross_validate`` this is what happens
    when metadata routing is off, or on without
    ``set_fit_request(sensitive_features=True)`` on the estimator.
    """


class CorpusFormatError(ValueError):
    """A corpus file does not have the layout its loader reads.

    The message names the file (and the line, for text formats) and the
    layout that was expected. Raised instead of skipping the offending part,
    which could silently attach ratings to the wrong utterance.
    """
