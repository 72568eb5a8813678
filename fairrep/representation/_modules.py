"""Torch modules of the fair representation network (section 2.2.2, Fig. 3).

* :class:`RepresentationModule`: encoder MLP to the embedding, plus the
  emotion head trained with the cross-entropy :math:`L_1`.
* :class:`GroupClassifier`: the adversary predicting the (rater) group from
  the embedding, trained with the cross-entropy :math:`L_A`.
* :class:`Critic`: the WGAN-style critic of ``distance="critic"``.
* :func:`gradient_reversal`: identity forward, negated gradient backward
  (Ganin et al., 2016), which lets one backward pass train the adversary to
  *minimise* :math:`L_A` while the encoder *maximises* it.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._critic import interpolation_draws

__all__ = ["Critic", "GroupClassifier", "RepresentationModule", "Standardize",
           "gradient_reversal"]


class _GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


def gradient_reversal(x):
    """Identity whose gradient is negated on the way back.

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._modules import gradient_reversal
    >>> x = torch.ones(2, requires_grad=True)
    >>> gradient_reversal(x).sum().backward()
    >>> x.grad
    tensor([-1., -1.])
    """
    return _GradientReversal.apply(x)


class Standardize(nn.BatchNorm1d):
    """Per-unit standardisation of the embedding: ``BatchNorm1d(affine=False)``.

    While training, each unit is centred and scaled by the batch's mean and
    variance (the gradient flows through both), so the embedding's scale is
    fixed: neither shrinking nor inflating it changes what the head, the
    adversary or the distance read. At inference, and on a training batch
    of a single row (which has no variance), the running statistics are
    used instead. The variance floor ``eps`` is 1e-8 rather than
    BatchNorm's 1e-5: below it the standardisation stops holding, so it sits
    far below the variance training gives a unit.
    """

    def __init__(self, n_features):
        super().__init__(n_features, eps=1e-8, affine=False)

    def forward(self, x):
        if self.training and x.shape[0] < 2:
            return F.batch_norm(x, self.running_mean, self.running_var, None, None,
                                False, 0.0, self.eps)
        return super().forward(x)


class RepresentationModule(nn.Module):
    """Encoder MLP and classification head.

    Every layer of the encoder is ``Linear -> ReLU``, with dropout between
    layers; the last layer's activation is the embedding (the representation
    :meth:`~fairrep.FairRep.transform` returns). The head is
    ``Dropout -> Linear`` to the class logits, so dropout never perturbs the
    embedding the fairness terms compare.

    :meth:`forward` calls the layers' functions directly rather than
    through the :class:`torch.nn.Sequential` stacks (the same operations and
    random draws, less per-call overhead at small batches); anyone calling
    ``encoder`` or ``head`` alone gets the plain stacks.

    Parameters
    ----------
    n_features : int
    layer_sizes : tuple of int
        Widths of the encoder layers; the last one is the embedding size.
    n_classes : int
    dropout : float
    standardize : bool, default=False
        If True the embedding layer is ``Linear -> BatchNorm1d(affine=False)``
        (:class:`Standardize`) instead of ``Linear -> ReLU``: every unit of
        the embedding has zero mean and unit variance over the batch while
        training (the running statistics at inference), so its scale is
        fixed.
    """

    def __init__(self, n_features, layer_sizes, n_classes, dropout, standardize=False):
        super().__init__()
        layers = []
        n_in = n_features
        last = len(layer_sizes) - 1
        for index, width in enumerate(layer_sizes):
            if index > 0 and dropout > 0:
                layers.append(nn.Dropout(dropout))
            if standardize and index == last:
                layers.extend([nn.Linear(n_in, width), Standardize(width)])
            else:
                layers.extend([nn.Linear(n_in, width), nn.ReLU()])
            n_in = width
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_in, n_classes))
        self._plan = self._training_plan()

    def _training_plan(self):
        """The layers as ``(kind, argument)`` steps for :meth:`forward`, or None.

        Kinds: ``"linear"`` (the layer), ``"relu"``, ``"drop"`` (the rate)
        and ``"embedding"`` (marks the encoder's output). None when a layer
        of another type was put in the stacks: :meth:`forward` then calls
        them as modules.
        """
        steps = []
        for part in (self.encoder, self.head):
            for layer in part:
                if isinstance(layer, nn.Dropout):
                    if layer.p > 0:
                        steps.append(("drop", float(layer.p)))
                elif isinstance(layer, nn.Linear):
                    steps.append(("linear", layer))
                elif isinstance(layer, nn.ReLU):
                    steps.append(("relu", None))
                elif isinstance(layer, nn.BatchNorm1d):
                    steps.append(("norm", layer))
                else:
                    return None
            if part is self.encoder:
                steps.append(("embedding", None))
        return tuple(steps)

    def forward(self, X, group=None):
        """Return ``(logits, embedding)``; ``group`` rides along in the batch, unused here."""
        # a module unpickled from before this shortcut has no plan
        plan = getattr(self, "_plan", None)
        if plan is None:
            embedding = self.encoder(X)
            return self.head(embedding), embedding
        # the layers' functions called directly: the same operations (and
        # random draws) as the Sequential stacks, without a module call each
        x, embedding, training = X, None, self.training
        for kind, item in plan:
            if kind == "linear":
                x = F.linear(x, item.weight, item.bias)
            elif kind == "relu":
                x = torch.relu(x)
            elif kind == "drop":
                x = F.dropout(x, item, training)
            elif kind == "norm":
                x = item(x)
            else:
                embedding = x
        return x, embedding


class GroupClassifier(nn.Module):
    """The adversary: a one-hidden-layer MLP from the embedding to group logits."""

    def __init__(self, n_features, n_hidden, n_groups):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_groups)
        )

    def forward(self, embedding):
        # the layers' functions called directly: the same as ``self.layers``,
        # without three module calls per batch
        first, _, second = self.layers
        hidden = torch.relu(F.linear(embedding, first.weight, first.bias))
        return F.linear(hidden, second.weight, second.bias)

    def forward_frozen(self, embedding):
        """The forward pass with the parameters held fixed (detached).

        Gradients reach ``embedding`` only: this is how the encoder's
        adversarial term sees the adversary.
        """
        first, _, second = self.layers
        hidden = torch.relu(F.linear(embedding, first.weight.detach(), first.bias.detach()))
        return F.linear(hidden, second.weight.detach(), second.bias.detach())


class Critic(nn.Module):
    """WGAN critic: one scalar potential per pair of groups.

    Output ``p`` is the Kantorovich potential :math:`f_p` of the ``p``-th
    pair. Its Lipschitz continuity is kept either by clipping the weights to
    ``[-clip, clip]`` before each training step (Arjovsky et al., 2017), or,
    with ``clip=None``, by the gradient penalty the training loop adds
    (:func:`~fairrep.representation._distances.critic_gradient_penalty`,
    Gulrajani et al., 2017).

    Parameters
    ----------
    n_features : int
    n_hidden : int
    n_pairs : int
        One output per pair of groups.
    clip : float or None, default=0.01
        Weight-clipping bound; None disables clipping.
    """

    def __init__(self, n_features, n_hidden, n_pairs, clip=0.01):
        super().__init__()
        self.clip = clip
        self.layers = nn.Sequential(
            nn.Linear(n_features, n_hidden), nn.LeakyReLU(0.2), nn.Linear(n_hidden, n_pairs)
        )

    @torch.no_grad()
    def clip_weights(self):
        if self.clip is None:
            return
        for parameter in self.parameters():
            parameter.clamp_(-self.clip, self.clip)

    def forward(self, embedding):
        return self.layers(embedding)

    def input_gradients(self, embedding, columns):
        r"""Gradient of output ``columns[k]`` with respect to row ``k``, in closed form.

        For :math:`f(z) = W_2\,\sigma(W_1 z + b_1) + b_2` with the leaky ReLU
        :math:`\sigma`, :math:`\nabla_z f_p(z) = W_1^\top\big(\sigma'(W_1 z + b_1)
        \odot W_{2,p}\big)`. :math:`\sigma'` is piecewise constant, so this is
        exactly what double back-propagation through the network gives
        (values and gradients with respect to the weights), in one forward
        matrix product and one backward pass instead of a graph of the
        gradient (WGAN-GP's penalty, Gulrajani et al., 2017).

        Parameters
        ----------
        embedding : Tensor of shape (n_samples, n_features)
        columns : Tensor of int64 of shape (n_samples,)

        Returns
        -------
        gradients : Tensor of shape (n_samples, n_features)
            Differentiable with respect to the critic's weights.
        """
        return self._input_gradient_terms(embedding, columns)[2]

    def _input_gradient_terms(self, embedding, columns):
        r"""``(s, u, g)`` of :meth:`input_gradients`: the slopes :math:`s =
        \sigma'(W_1 z + b_1)`, :math:`u = s \odot W_{2,p}` and the gradients
        :math:`g = W_1^\top u`, row by row."""
        first, activation, last = self.layers
        slope = _leaky_slopes(first(embedding), activation.negative_slope)
        u = slope * last.weight[columns]
        return slope, u, u @ first.weight

    @torch.no_grad()
    def add_loss_gradients(self, embedding, layout, penalty_weight):
        r"""Add the gradients of the critic's loss to its parameters' ``.grad``, in closed form.

        The loss is :math:`-\frac{1}{P}\sum_p \hat W_p + \lambda\,GP`: the
        mean Kantorovich-Rubinstein estimate over the batch's ``P`` pairs
        (:func:`~fairrep.representation._critic.critic_estimates`), negated,
        plus ``penalty_weight`` times WGAN-GP's penalty
        (:func:`~fairrep.representation._critic.critic_gradient_penalty`,
        on the points of
        :func:`~fairrep.representation._critic.interpolation_draws`, drawn in
        the same order). With :math:`h = W_1 z + b_1` and the leaky ReLU's
        piecewise-constant slope :math:`s = \sigma'(h)`, the estimate's
        gradients are one backward pass through the two layers, and the
        penalty's, with :math:`u = s \odot W_{2,p}`, :math:`g = W_1^\top u`
        and :math:`r = \partial GP / \partial g`, are :math:`u\,r^\top` for
        :math:`W_1` and :math:`s \odot (W_1 r)` for :math:`W_{2,p}` (none for
        the biases: :math:`s` is constant almost everywhere). This is what
        autograd gives for the same loss, without building its graph: the
        critic takes several updates per encoder step (NRL, Feng et al.,
        2019), each a handful of small matrix products.

        Parameters
        ----------
        embedding : Tensor of shape (n_samples, n_features)
            Held fixed (no gradient reaches it).
        layout : CriticLayout
            The batch's pairs (:func:`~fairrep.representation._critic.critic_layout`).
        penalty_weight : float
            :math:`\lambda`; 0 skips the penalty and its random draws.
        """
        first, activation, last = self.layers
        weight_1, weight_2 = first.weight, last.weight
        columns, n_pairs = layout.columns, layout.columns.shape[0]
        hidden = F.linear(embedding, weight_1, first.bias)
        slope = _leaky_slopes(hidden, activation.negative_slope)
        # d loss / d scores[:, columns]
        d_scores = layout.weights / -n_pairs
        grad_w2 = torch.zeros_like(weight_2).index_add_(0, columns, d_scores.T @ (hidden * slope))
        grad_b2 = torch.zeros_like(last.bias).index_add_(0, columns, d_scores.sum(0))
        d_hidden = (d_scores @ weight_2[columns]) * slope
        grad_w1 = d_hidden.T @ embedding
        grad_b1 = d_hidden.sum(0)
        if penalty_weight > 0:
            points, point_columns, sizes = interpolation_draws(embedding, layout)
            point_slope, u, g = self._input_gradient_terms(points, point_columns)
            norm = g.norm(dim=1, keepdim=True)
            # each pair's points weigh 1 / (P * its size): the mean of the pairs' means
            share = torch.cat([norm.new_full((size, 1), 1.0 / (n_pairs * size))
                               for size in sizes])
            # d (norm - 1)^2 / d g = 2 (norm - 1) g / norm; 0 where g = 0, as autograd's norm
            scale = torch.where(norm > 0, 2.0 * (norm - 1.0) / norm, 0.0)
            r = (penalty_weight * share * scale) * g
            grad_w1 += u.T @ r
            grad_w2.index_add_(0, point_columns, point_slope * (r @ weight_1.T))
        for parameter, gradient in zip((weight_1, first.bias, weight_2, last.bias),
                                       (grad_w1, grad_b1, grad_w2, grad_b2)):
            if parameter.grad is None:
                parameter.grad = gradient
            else:
                parameter.grad += gradient


def _leaky_slopes(hidden, negative_slope):
    """The leaky ReLU's derivative at ``hidden``: 1 where positive, ``negative_slope`` elsewhere."""
    return torch.where(hidden > 0, 1.0, negative_slope).to(hidden.dtype)

