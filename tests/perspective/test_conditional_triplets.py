"""Conditional similarity (Veit et al., 2017) in FairPer's triplet loss :math:`L_T`.

Each triplet belongs to one condition, the perspective of its anchor's group,
and is scored under that condition's mask only (section 2.2.3 of Chien & Lee).
So the masks learn different notions of similarity from the triplets alone,
with :math:`L_2` switched off; a loss that scored every triplet under every
mask would train all masks alike.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from fairrep.perspective import FairPer
from fairrep.perspective._modules import PerspectiveModule
from fairrep.perspective._triplet import conditional_triplet_loss, sample_triplets


def _opposite_spreads(n=400, seed=0):
    """Both groups centred; group 0 spread along feature 0 and tight along 1, group 1 the reverse.

    Under a mask that reads feature 1, group 0 is one tight cluster inside group 1's
    spread: its triplets hold there and group 1's fail, and the reverse under
    feature 0, so the two conditions ask for different similarities.
    """
    rng = np.random.RandomState(seed)
    group = np.repeat([0, 1], n // 2)
    wide, tight = rng.normal(0, 2.0, n), rng.normal(0, 0.05, n)
    X = np.where(group[:, None] == 0, np.column_stack([wide, tight]),
                 np.column_stack([tight, wide]))
    return torch.tensor(X, dtype=torch.float32), torch.tensor(group)


def _satisfied(embedding, anchor, positive, negative, condition):
    d_pos = (embedding[anchor, condition] - embedding[positive, condition]).norm(dim=-1)
    d_neg = (embedding[anchor, condition] - embedding[negative, condition]).norm(dim=-1)
    return (d_pos < d_neg).float()


@pytest.mark.parametrize("conditional", [True, False])
def test_masks_learn_different_similarities_from_triplets_alone(conditional):
    """Train on L_T only; each group's triplets hold better under its own mask.

    With the conditional loss, group 0's triplets are satisfied under mask 0
    far more often than under mask 1, and group 1's the other way round. The
    control scores every triplet under both masks (the earlier, non-conditional
    loss): then the masks learn one notion and the gap vanishes.
    """
    torch.manual_seed(0)
    X, group = _opposite_spreads()
    module = PerspectiveModule(n_features=2, hidden_size=32, embedding_dim=16,
                               n_perspectives=2, n_classes=2, dropout=0.0)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    for step in range(300):
        rows = torch.randperm(X.shape[0])[:64]
        _, embedding = module(X[rows])
        anchor, positive, negative = sample_triplets(group[rows])
        own = group[rows][anchor]
        if conditional:
            loss = conditional_triplet_loss(embedding, anchor, positive, negative, own,
                                            margin=0.2)
        else:
            loss = sum(conditional_triplet_loss(
                embedding, anchor, positive, negative, torch.full_like(own, s), margin=0.2)
                for s in (0, 1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    module.eval()
    with torch.no_grad():
        _, embedding = module(X)
    torch.manual_seed(1)
    anchor, positive, negative = sample_triplets(group)
    own = group[anchor]
    under_own = _satisfied(embedding, anchor, positive, negative, own)
    under_other = _satisfied(embedding, anchor, positive, negative, 1 - own)
    gaps = [float(under_own[own == g].mean() - under_other[own == g].mean())
            for g in (0, 1)]
    if conditional:
        assert min(gaps) > 0.2, gaps
    else:
        assert max(abs(gap) for gap in gaps) < 0.05, gaps


def test_triplet_loss_is_a_mean_under_the_anchor_condition():
    """L_T by hand: two triplets, one per condition, each read under its own mask."""
    z = torch.tensor([[[0.0], [0.0]], [[1.0], [0.0]], [[0.0], [2.0]], [[5.0], [5.0]]])
    anchor, positive, negative = torch.tensor([0, 0]), torch.tensor([1, 2]), torch.tensor([3, 1])
    condition = torch.tensor([0, 1])
    # condition 0: d(0,1) = 1, d(0,3) = 5 -> 0; condition 1: d(0,2) = 2, d(0,1) = 0 -> 2.5
    loss = conditional_triplet_loss(z, anchor, positive, negative, condition, margin=0.5)
    assert float(loss) == pytest.approx((0.0 + 2.5) / 2)


def test_groups_must_name_perspectives_for_the_triplets():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    Y = pd.DataFrame({"male": rng.randint(2, size=60), "female": rng.randint(2, size=60)})
    groups = np.where(rng.rand(60) > 0.5, "men", "women")
    with pytest.raises(ValueError, match="name no perspective.*triplet_weight=0"):
        FairPer(max_epochs=1, random_state=0).fit(X, Y, sensitive_features=groups)
    # without the triplet term the groups are not needed as conditions
    FairPer(max_epochs=1, triplet_weight=0.0, random_state=0).fit(
        X, Y, sensitive_features=groups)
