"""FairRep with a fairness term on its output scores: a benchmark-only subclass.

:class:`~fairrep.FairRep` penalises the distance between the groups'
*embeddings* (:math:`L_D` of eq. 1 in Chien & Lee) and trains an adversary on
the embedding; statistical parity is a property of the *predictions*.
``ScoreParityFairRep`` adds ``score_weight`` times a distance between the
groups' predicted probabilities in each mini-batch to the emotion loss
:math:`L_1` (through skorch's ``get_loss``), so that ``bench_tolerance.py``
can measure what such a term would give before FairRep has one:

* ``score_distance="mean"``: soft statistical parity, the largest gap between
  two groups' mean predicted probability of a class, summed over classes;
* ``score_distance="wasserstein"``: the 1-D Wasserstein-1 distance between the
  groups' score distributions (it bounds the parity gap at every threshold),
  less the same distance between a random split of the batch.
"""

import inspect

import torch

from fairrep import FairRep
from fairrep.representation._net import FairRepNet

__all__ = ["SCORE_DISTANCES", "ScoreParityFairRep"]


def _score_columns(proba):
    # binary targets: the positive class; multiclass: every class
    return proba[:, 1:] if proba.shape[1] == 2 else proba


def score_mean_gap(proba, group):
    """Soft statistical parity: largest gap in mean predicted probability.

    For each class, the largest difference between two groups' mean
    probability of that class in the mini-batch, summed over classes: the
    parity gap of eq. (1)'s predictions with the hard decision relaxed to
    the probability.
    """
    columns = _score_columns(proba)
    codes = torch.unique(group[group >= 0]).tolist()
    if len(codes) < 2:
        return None
    means = torch.stack([columns[group == g].mean(dim=0) for g in codes])
    return (means.max(dim=0).values - means.min(dim=0).values).sum()


def score_wasserstein(proba, group, *, n_quantiles=32):
    """Mean over pairs of groups of the 1-D Wasserstein-1 distance of scores.

    The distance between the groups' empirical quantile functions bounds the
    parity gap at every threshold. The same distance between a random split
    of the batch with the groups' sizes is taken off (the floor of a
    finite-sample estimate, which would otherwise reward scores that do not
    vary at all).
    """
    columns = _score_columns(proba)
    levels = torch.linspace(0.0, 1.0, n_quantiles, dtype=proba.dtype)

    def between(codes):
        quantiles = {}
        for g in torch.unique(codes[codes >= 0]).tolist():
            rows = codes == g
            if int(rows.sum()) >= 2:
                quantiles[g] = torch.quantile(columns[rows], levels, dim=0)
        keys = sorted(quantiles)
        terms = [(quantiles[a] - quantiles[b]).abs().mean(0).sum()
                 for i, a in enumerate(keys) for b in keys[i + 1:]]
        return torch.stack(terms).mean() if terms else None

    value = between(group)
    if value is None:
        return None
    known = (group >= 0).nonzero().flatten()
    shuffled = group.clone()
    shuffled[known] = group[known[torch.randperm(len(known))]]
    return value - between(shuffled)


SCORE_DISTANCES = {"mean": score_mean_gap, "wasserstein": score_wasserstein}


class ScoreParityNet(FairRepNet):
    """FairRepNet whose training loss adds ``score_weight`` x a score distance."""

    score_weight = 0.0
    score_distance = "mean"

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training and self.score_weight > 0 and isinstance(X, dict):
            distance = SCORE_DISTANCES[self.score_distance]
            term = distance(torch.softmax(y_pred[0], dim=1), X["group"])
            if term is not None:
                loss = loss + self.score_weight * term
        return loss


class ScoreParityFairRep(FairRep):
    """FairRep plus ``score_weight`` x the groups' score distance (benchmark only)."""

    def __init__(self, *args, score_weight=0.0, score_distance="mean", **kwargs):
        super().__init__(*args, **kwargs)
        self.score_weight = score_weight
        self.score_distance = score_distance

    def _uses_fairness(self):
        return super()._uses_fairness() or self.score_weight > 0

    def _build_net(self, **kwargs):
        net = super()._build_net(**kwargs)
        net.__class__ = ScoreParityNet
        net.score_weight = float(self.score_weight)
        net.score_distance = self.score_distance
        return net


_signature = inspect.signature(FairRep.__init__)
ScoreParityFairRep.__init__.__signature__ = _signature.replace(parameters=[
    *_signature.parameters.values(),
    inspect.Parameter("score_weight", inspect.Parameter.KEYWORD_ONLY, default=0.0),
    inspect.Parameter("score_distance", inspect.Parameter.KEYWORD_ONLY, default="mean"),
])
