"""The skorch net of stage 1: :class:`FairRepNet`, eq. (1) of section 2.2.2.

:class:`~fairrep.FairRep`, :class:`~fairrep.baselines.NRL` and
:class:`~fairrep.baselines.DNNClassifier` build it as ``self.net_`` inside
``fit``. On top of :class:`~fairrep._nn.CoreNet` (fast epochs, every
optimizer stepped after one backward):

* :meth:`FairRepNet.initialize_module` adds the adversary (``adversary_``) and
  the WGAN critic (``critic_``), configured through ``adversary__*`` and
  ``critic__*`` parameters, with their own optimizer
  (``adversary_optimizer_``);
* :meth:`FairRepNet.get_loss` is the emotion cross-entropy :math:`L_1`;
* :meth:`FairRepNet.train_step_single` adds the adversary's :math:`L_A`,
  the encoder's adversarial term and :math:`\\alpha L_D` of eq. (1), and
  runs the step's only backward pass.
"""

import itertools
import math

import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.dataset import unpack_data

from .._nn import CoreNet, store_init_params
from ._critic import critic_estimates, critic_gradient_penalty, critic_layout
from ._distances import (
    group_distance,
    shuffled_groups,
    sinkhorn_terms,
    soft_parity_gap,
    whitening_matrix,
)

__all__ = ["LOSS_TERMS", "FairRepNet"]

#: The per-epoch loss components recorded in the history, in eq. (1)'s order.
LOSS_TERMS = ("emotion_loss", "adversary_loss", "distance_loss", "score_loss")


class FairRepNet(CoreNet):
    """skorch net minimising :math:`L_{Rep} = L_1 - L_A + \\alpha L_D` (eq. 1).

    The module returns ``(logits, embedding)``. The encoder descends
    :math:`L_1 + w\\,T_A + \\alpha L_D` where :math:`T_A` is its adversarial
    term (``adversary_loss``; :math:`-L_A` for ``"reversal"``, which is
    eq. (1) with :math:`L_A` weighted by ``w = adversary_weight``). The
    adversary and the critic learn on the detached embedding, with their
    own optimizer and unscaled losses (:math:`L_A`; for ``distance="critic"``
    the critic ascends its estimate :math:`\\hat W_1`, less
    ``gradient_penalty`` times its WGAN-GP penalty); the encoder's terms go
    through them with their parameters held fixed. The recorded
    ``train_loss`` is :math:`L_1 + w\\,T_A + \\alpha L_D`, eq. (1) itself
    for ``"reversal"``.

    **Update order.** Each batch runs one forward and one backward pass:
    the adversary's (and critic's) loss is computed on the same embedding
    as the encoder's terms, the gradients of both come from that single
    backward, and then both optimizers step (simultaneous updates, as a
    gradient-reversal layer gives, Ganin et al., 2016). With
    ``adversary_steps = k > 1`` the adversarial parts first take
    ``k - 1`` extra steps on the batch's detached embedding, so they take
    ``k`` steps per encoder step in all.

    With ``score_weight`` :math:`\\beta > 0` the encoder and head also
    descend :math:`\\beta L_S`, the soft statistical parity of the
    predictions (:func:`~fairrep.representation._distances.soft_parity_gap`),
    fairrep's addition to eq. (1).

    The history records ``emotion_loss``, ``adversary_loss``,
    ``distance_loss`` and ``score_loss``, the epoch means of :math:`L_1`,
    :math:`L_A`, :math:`L_D` and :math:`L_S` over the batches where each
    applies (see :class:`~fairrep._nn.CoreNet`).

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    adversary : type or None
        Adversary module class (configured with ``adversary__*``), or None.
    critic : type or None
        Critic module class (``critic__*``), used when ``distance="critic"``.
    alpha : float
        Weight :math:`\\alpha` of :math:`L_D`.
    adversary_weight : float
        Weight of :math:`L_A`.
    distance : str
        One of ``fairrep.representation._distances.DISTANCES``.
    distance_params : dict or None
        Extra keyword arguments of
        :func:`~fairrep.representation._distances.group_distance`.
    n_groups : int
        Number of known groups (0 when no sensitive features were given).
    adversary_loss : {"reversal", "capped", "confusion"}
        The encoder's adversarial term (see :class:`~fairrep.FairRep`).
    adversary_steps : int
        Updates of the adversary and critic per encoder update.
    gradient_penalty : float
        Weight of the critic's gradient penalty; 0 disables it.
    scale_free : bool
        :math:`L_D` (``"sinkhorn"``, ``"sliced"``, ``"exact"``) is measured
        on the batch-whitened embedding
        (:func:`~fairrep.representation._distances.whitening_matrix`), less
        the same distance between a random split of the batch's rows of
        known group with the groups' sizes
        (:func:`~fairrep.representation._distances.shuffled_groups`).
    score_weight : float
        Weight :math:`\\beta` of :math:`L_S`; 0 disables it.
    """

    # the extra modules take ``adversary__*`` / ``critic__*`` parameters even
    # when a configuration leaves them out
    prefixes_ = [*NeuralNet.prefixes_, "adversary", "critic"]

    LOSS_TERMS = LOSS_TERMS

    def __init__(
        self,
        *args,
        adversary=None,
        critic=None,
        alpha=0.0,
        adversary_weight=0.0,
        distance="sinkhorn",
        distance_params=None,
        n_groups=0,
        adversary_loss="reversal",
        adversary_steps=1,
        gradient_penalty=0.0,
        scale_free=False,
        score_weight=0.0,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        store_init_params(self, locals())

    @property
    def uses_adversary(self):
        return self.adversary is not None and self.adversary_weight > 0

    @property
    def uses_score(self):
        return self.n_groups >= 2 and self.score_weight > 0

    @property
    def uses_distance(self):
        return self.n_groups >= 2 and self.alpha > 0

    @property
    def group_pairs(self):
        return list(itertools.combinations(range(self.n_groups), 2))

    def initialize_module(self):
        super().initialize_module()
        # "adversary" and "critic" are declared in ``prefixes_`` (so their
        # ``adversary__*`` / ``critic__*`` parameters are accepted whatever
        # the configuration), which keeps skorch's ``__setattr__`` from
        # registering the modules: they are registered here, so that they
        # are among the net's modules and in ``cuda_dependent_attributes_``
        # (a net trained on a GPU unpickles on a CPU-only machine)
        if self.uses_adversary:
            self.adversary_ = self.initialized_instance(
                self.adversary, self.get_params_for("adversary")
            ).to(self.device)
            self._register_module("adversary")
        if self.uses_distance and self.distance == "critic":
            self.critic_ = self.initialized_instance(
                self.critic, self.get_params_for("critic")
            ).to(self.device)
            self._register_module("critic")
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The emotion cross-entropy :math:`L_1`; also the validation loss."""
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return self.criterion_(logits, y_true)

    def initialize_optimizer(self, *args, **kwargs):
        """One Adam for the encoder and head, one for the adversarial parts.

        The adversary and the critic get their own optimizer so that they can
        take ``adversary_steps - 1`` extra steps per encoder step; both step
        after the single backward pass of :meth:`train_step_single` (see
        :meth:`train_step`).
        """
        named = list(self.module_.named_parameters())
        args, kwargs = self.get_params_for_optimizer("optimizer", named)
        self.optimizer_ = self.optimizer(*args, **kwargs)
        adversarial = self._adversarial_parameters()
        if adversarial:
            args, kwargs = self.get_params_for_optimizer("optimizer", adversarial)
            self.adversary_optimizer_ = self.optimizer(*args, **kwargs)
        return self

    def train_step_single(self, batch, **fit_params):
        # switching modes walks every submodule; do it only after validation
        self._ensure_training()
        Xi, yi = unpack_data(batch)
        if self.uses_distance and self.distance == "critic":
            self.critic_.clip_weights()
        if isinstance(Xi, dict) and not fit_params:
            logits, embedding = self.module_(**Xi)
        else:
            logits, embedding = self.infer(Xi, **fit_params)
        emotion_loss = self.get_loss((logits, embedding), yi, X=Xi, training=True)
        objective = emotion_loss
        reported = emotion_loss.detach()
        zero = reported.new_zeros(())
        adversary_loss = distance_loss = score_loss = zero
        has_adversary = has_distance = has_score = False
        group = Xi.get("group") if isinstance(Xi, dict) else None
        if group is not None and (self.uses_adversary or self.uses_distance
                                  or self.uses_score):
            # the batch's pairs of groups, for every critic update of this step
            layout = (self._critic_layout(group, embedding.dtype)
                      if self.uses_distance and self.distance == "critic" else None)
            self._inner_adversary_steps(embedding, group, layout)
            known = group >= 0
            n_known = known.sum()
            if self.uses_adversary:
                # sum / count instead of a mean: no host sync to test for an
                # all-missing batch, which simply contributes zero
                weights = known.to(embedding.dtype) / n_known.clamp_min(1)
                adversary_loss = F.cross_entropy(
                    self.adversary_(embedding.detach()), group,
                    ignore_index=-1, reduction="sum",
                ) / n_known.clamp_min(1)
                encoder_term = self._encoder_adversary_term(embedding, group, weights)
                weight = self.adversary_weight
                objective = objective + adversary_loss + weight * encoder_term
                reported = reported + weight * encoder_term.detach()
                has_adversary = n_known > 0
            if self.uses_distance:
                distance_loss, surrogate, has_distance = (
                    self._distance_terms(embedding, group, layout)
                )
                objective = objective + self.alpha * surrogate
                reported = reported + self.alpha * distance_loss
            if self.uses_score:
                score_loss, has_score = soft_parity_gap(
                    torch.softmax(logits, dim=1), group, self.n_groups
                )
                objective = objective + self.score_weight * score_loss
                score_loss = score_loss.detach()
                reported = reported + self.score_weight * score_loss
        objective.backward()
        self._accumulate_terms(
            (reported, emotion_loss.detach(), adversary_loss.detach(), distance_loss,
             score_loss),
            (has_adversary, has_distance, has_score),
            len(yi),
        )
        return {"loss": reported, "y_pred": logits}

    # -- the adversarial parts -----------------------------------------------
    def _adversarial_parameters(self):
        named = []
        for name in ("adversary_", "critic_"):
            module = getattr(self, name, None)
            if module is not None:
                named += [(f"{name}{key}", value) for key, value in module.named_parameters()]
        return named

    def _inner_adversary_steps(self, embedding, group, layout):
        """``adversary_steps - 1`` updates of the adversary and critic on a fixed embedding.

        ``layout`` is the batch's :meth:`_critic_layout` (None without a
        critic or without two groups in the batch).
        """
        optimizer = getattr(self, "adversary_optimizer_", None)
        if optimizer is None or self.adversary_steps <= 1:
            return
        fixed = embedding.detach()
        critic = self.uses_distance and self.distance == "critic"
        for _ in range(self.adversary_steps - 1):
            optimizer.zero_grad()
            stepped = False
            if self.uses_adversary:
                known = group >= 0
                loss = F.cross_entropy(
                    self.adversary_(fixed), group, ignore_index=-1, reduction="sum"
                ) / known.sum().clamp_min(1)
                loss.backward()
                stepped = True
            if critic:
                stepped = self._critic_update(fixed, group, layout) or stepped
            if stepped:
                optimizer.step()
            if critic:
                self.critic_.clip_weights()
        # the step's own update comes from the main backward alone
        optimizer.zero_grad()

    def _frozen_adversary(self, embedding):
        """Adversary logits with its parameters held fixed: gradients reach the embedding only."""
        frozen = getattr(self.adversary_, "forward_frozen", None)
        if frozen is not None:
            return frozen(embedding)
        params = {k: v.detach() for k, v in self.adversary_.named_parameters()}
        return torch.func.functional_call(self.adversary_, params, (embedding,))

    def _encoder_adversary_term(self, embedding, group, weights):
        """The encoder's side of :math:`-L_A`, per ``adversary_loss``.

        ``weights`` is ``1 / n_known`` on samples with a known group and 0
        elsewhere.
        """
        logits = self._frozen_adversary(embedding)
        if self.adversary_loss == "confusion":
            # cross-entropy to the uniform distribution, minus its minimum log K
            log_p = F.log_softmax(logits, dim=1)
            per_sample = -log_p.mean(dim=1) - math.log(self.n_groups)
            return (per_sample * weights).sum()
        per_sample = F.cross_entropy(logits, group.clamp_min(0), reduction="none")
        if self.adversary_loss == "capped":
            per_sample = per_sample.clamp(max=math.log(self.n_groups))
        return -(per_sample * weights).sum()

    def _critic_layout(self, group, dtype):
        """The batch's pairs of groups, read once for every critic update (None if none)."""
        present = set(torch.unique(group[group >= 0]).tolist())
        pairs = [(p, pair) for p, pair in enumerate(self.group_pairs)
                 if pair[0] in present and pair[1] in present]
        return critic_layout(group, pairs, dtype=dtype) if pairs else None

    def _critic_update(self, fixed, group, layout):
        """Add the gradients of the critic's loss on a detached embedding; False if no pair.

        The loss is :math:`-\\hat W_1` (the mean estimate over the batch's
        pairs) plus ``gradient_penalty`` times WGAN-GP's penalty; a critic with
        ``add_loss_gradients`` (:class:`~fairrep.representation._modules.Critic`)
        gives them in closed form, any other is differentiated by autograd.
        """
        if layout is None:
            return False
        closed_form = getattr(self.critic_, "add_loss_gradients", None)
        if closed_form is not None:
            closed_form(fixed, layout, self.gradient_penalty)
            return True
        loss = -critic_estimates(self.critic_(fixed), layout).mean()
        if self.gradient_penalty > 0:
            loss = loss + self.gradient_penalty * critic_gradient_penalty(
                self.critic_, fixed, group, layout.pairs, layout
            )
        loss.backward()
        return True

    def _distance_terms(self, embedding, group, layout):
        """Return ``(L_D value, encoder's surrogate, present)``.

        The value is detached; the surrogate has the gradient the encoder
        descends. When the term does not apply to the batch (fewer than two
        groups in it) the value and surrogate are zero and ``present`` is
        false; ``present`` may be a boolean tensor (Sinkhorn decides
        without a host synchronisation). With ``distance="critic"`` the terms
        read the batch's ``layout`` (:meth:`_critic_layout`) and the critic's
        own gradients for this step are added here (:meth:`_critic_update`).
        """
        zero = embedding.new_zeros(())
        if self.distance == "critic":
            return self._critic_terms(embedding, group, layout)
        params = dict(self.distance_params or {})
        null = None
        if self.scale_free:
            # every direction counts relative to its spread in the batch, and
            # the floor of the mini-batch estimate is taken off
            embedding = embedding @ whitening_matrix(embedding)
            null = shuffled_groups(group)
        if self.distance == "sinkhorn":
            options = {"reg": params.get("reg", 0.1), "n_iter": params.get("n_iter", 10)}
            # with the floor taken off in the same solve; the floor carries
            # gradient: the estimate's own bias grows with the spread, so a
            # constant floor would reward shrinking
            value, present, gradient = sinkhorn_terms(
                embedding, group, self.n_groups, null_codes=null, **options
            )
            # the envelope gradient, as the gradient of a linear surrogate
            surrogate = (embedding * gradient.to(embedding.device)).sum()
            return value.to(embedding), surrogate, present.to(embedding.device)
        value = group_distance(embedding, group, distance=self.distance, **params)
        if value is None:
            return zero, zero, False
        if null is not None:
            value = value - group_distance(embedding, null, distance=self.distance,
                                           **params)
        return value.detach(), value, True

    def _critic_terms(self, embedding, group, layout):
        """:meth:`_distance_terms` for ``distance="critic"``."""
        zero = embedding.new_zeros(())
        # the critic's own update of this step: its gradients, before the encoder's
        # backward pass (which does not reach the critic's parameters)
        if not self._critic_update(embedding.detach(), group, layout):
            return zero, zero, False
        # the encoder descends the estimate of the critic held fixed
        params = {k: v.detach() for k, v in self.critic_.named_parameters()}
        scores = torch.func.functional_call(self.critic_, params, (embedding,))
        estimate = critic_estimates(scores, layout).mean()
        return estimate.detach(), estimate, True
