"""NRL's critic terms: the batch layout and the closed-form WGAN-GP penalty."""

import itertools

import pytest
import torch

from fairrep.representation._critic import (
    critic_distance,
    critic_estimates,
    critic_gradient_penalty,
    critic_layout,
)
from fairrep.representation._modules import Critic


def _pairs(n_groups):
    return list(enumerate(itertools.combinations(range(n_groups), 2)))


@pytest.mark.parametrize("n_groups", [2, 3])
def test_layout_estimate_is_the_difference_of_the_groups_means(n_groups):
    torch.manual_seed(0)
    codes = torch.randint(-1, n_groups, (50,))
    scores = torch.randn(50, len(_pairs(n_groups)), dtype=torch.float64)
    layout = critic_layout(codes, _pairs(n_groups), dtype=torch.float64)
    expected = [scores[codes == i, p].mean() - scores[codes == j, p].mean()
                for p, (i, j) in _pairs(n_groups)]
    torch.testing.assert_close(critic_estimates(scores, layout), torch.stack(expected))
    # the pairs' own order of outputs, without a layout
    torch.testing.assert_close(
        critic_distance(scores, codes, [pair for _, pair in _pairs(n_groups)]),
        torch.stack(expected))


@pytest.mark.parametrize("n_groups", [2, 3])
def test_closed_form_penalty_equals_double_backpropagation(n_groups):
    """Value and weight gradients of the penalty equal autograd's, from the same draws."""
    torch.manual_seed(0)
    pairs = _pairs(n_groups)
    critic = Critic(8, 16, len(pairs), clip=None).double()
    z = torch.randn(40, 8, dtype=torch.float64)
    codes = torch.randint(-1, n_groups, (40,))
    results = []
    # the same module, seen by the penalty with and without its closed form
    for scorer in (critic, lambda points: critic(points)):
        critic.zero_grad()
        torch.manual_seed(1)
        penalty = critic_gradient_penalty(scorer, z, codes, pairs)
        penalty.backward()
        grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone()
                 for p in critic.parameters()]
        results.append((penalty.detach(), grads))
    (closed, closed_grads), (autograd, autograd_grads) = results
    assert float(autograd) > 0.01  # a penalty that can differ
    torch.testing.assert_close(closed, autograd)
    for ours, reference in zip(closed_grads, autograd_grads):
        torch.testing.assert_close(ours, reference)


def test_input_gradients_are_the_critic_outputs_gradients():
    torch.manual_seed(0)
    critic = Critic(5, 7, 3, clip=None).double()
    z = torch.randn(12, 5, dtype=torch.float64, requires_grad=True)
    columns = torch.randint(0, 3, (12,))
    (reference,) = torch.autograd.grad(critic(z).gather(1, columns[:, None]).sum(), z)
    torch.testing.assert_close(critic.input_gradients(z.detach(), columns), reference)


@pytest.mark.parametrize("n_groups, penalty", [(2, 10.0), (3, 10.0), (2, 0.0)])
def test_closed_form_loss_gradients_equal_autograd(n_groups, penalty):
    """The critic's update gradients (estimate and penalty) equal autograd's, same draws."""
    torch.manual_seed(0)
    pairs = _pairs(n_groups)
    critic = Critic(8, 16, len(pairs), clip=None).double()
    z = torch.randn(40, 8, dtype=torch.float64)
    codes = torch.randint(-1, n_groups, (40,))
    layout = critic_layout(codes, pairs, dtype=torch.float64)
    critic.zero_grad()
    torch.manual_seed(1)
    loss = -critic_estimates(critic(z), layout).mean()
    if penalty:
        loss = loss + penalty * critic_gradient_penalty(
            lambda points: critic(points), z, codes, pairs, layout)
    loss.backward()
    reference = [p.grad.clone() for p in critic.parameters()]
    # gradients are added to what is there, as backward() does
    for p in critic.parameters():
        p.grad = torch.ones_like(p)
    torch.manual_seed(1)
    critic.add_loss_gradients(z, layout, penalty)
    for p, expected in zip(critic.parameters(), reference):
        torch.testing.assert_close(p.grad - 1.0, expected)
    # and the next draw is the same: the closed form consumed the same numbers
    torch.manual_seed(1)
    if penalty:
        critic_gradient_penalty(critic, z, codes, pairs, layout)
    after_reference = torch.rand(1)
    torch.manual_seed(1)
    critic.add_loss_gradients(z, layout, penalty)
    torch.testing.assert_close(torch.rand(1), after_reference)


def test_nrl_steps_with_closed_form_match_autograd():
    """Training NRL with the closed-form critic update follows the autograd one."""
    import numpy as np

    from fairrep.baselines import NRL
    from fairrep.representation import _modules

    rng = np.random.RandomState(0)
    X = rng.normal(size=(256, 10)).astype(np.float32)
    y = rng.randint(3, size=256)
    s = rng.choice(["a", "b", "c"], size=256)
    models = []
    for closed_form in (True, False):
        original = _modules.Critic.add_loss_gradients
        if not closed_form:
            del _modules.Critic.add_loss_gradients
        try:
            models.append(NRL(max_epochs=2, batch_size=32, random_state=0, alpha=0.1)
                          .fit(X, y, sensitive_features=s))
        finally:
            _modules.Critic.add_loss_gradients = original
    # float32 rounding differs between the two; a wrong gradient would move the
    # weights by about lr = 1e-3 per update, over 80 updates
    ours, reference = (m.net_.critic_.state_dict() for m in models)
    for key in reference:
        torch.testing.assert_close(ours[key], reference[key], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(models[0].transform(X), models[1].transform(X),
                               rtol=1e-4, atol=1e-5)
