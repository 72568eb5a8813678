"""
==========================================
Quick start: FairRep against a plain DNN
==========================================

Stage 1 of Chien & Lee, "A Two-Stage Learning Strategy for Fair Speech
Emotion Recognition" (section 2.2.2, eq. 1) on the simulated multi-rater
corpus that fairrep ships: rater groups perceive some utterances
differently, the items where their consensus labels differ form the
perception-biased set S2, and a classifier of the majority-vote truth that
follows one group's reading predicts each class at different rates for the
two groups' S2 items. :class:`~fairrep.FairRep` trains its encoder against
an adversary that recognises the group (``- L_A``) and with a Wasserstein
distance between the groups' embeddings (``alpha * L_D``);
:class:`~fairrep.baselines.DNNClassifier` is the same network without
those terms.

We fit FairRep once by hand, then compare both models with the paper's
Exp1 protocol (section 3.1): leave-one-session-out training, weighted F1
per emotion on the consensus set S1 (Table 1) and statistical parity per
emotion on S2 (Table 2, ideal 0). The corpus, networks and epochs are
small so that the script runs in well under a minute on one CPU thread;
the numbers are those of this run, not the paper's.
"""

# %%
# The simulated corpus and the S1/S2 split
# ----------------------------------------
# :func:`~fairrep.datasets.make_rater_perspectives` draws feature vectors,
# a long table of ratings (one row per item and rater, with the rater's
# group) and the majority-vote truth. **It is simulated data**, built to
# have the structure of IEMOCAP as the paper uses it (five emotions, five
# sessions of a male and a female speaker, two male and four female
# raters). :func:`~fairrep.raters.perspective_split` places every item in
# S1 (every group's consensus equals the truth), S2 (the groups' consensus
# labels differ) or "undetermined" (a tie somewhere).
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from fairrep import FairRep
from fairrep.baselines import DNNClassifier
from fairrep.datasets import make_rater_perspectives
from fairrep.experiments import run_stage1, summarize
from fairrep.features import SpeakerStandardScaler
from fairrep.perspective import perspective_groups
from fairrep.raters import perspective_split

torch.set_num_threads(1)  # small models: one thread is the fastest on a busy machine

corpus = make_rater_perspectives(1500, random_state=0)
split = perspective_split(corpus.ratings, truth=corpus.truth)
split = split.loc[corpus.item_info.index]  # one row per feature row, same order
print(split["subset"].value_counts())
split.head()

# %%
# Features and sensitive groups
# -----------------------------
# The features are z-normalised per speaker (section 2.2.1) with
# :class:`~fairrep.features.SpeakerStandardScaler`. The sensitive feature
# of an S2 item is the rater group whose consensus the truth follows (its
# *perspective*, :func:`~fairrep.perspective.perspective_groups`); S1
# items have none (``None``): they count in the emotion loss only, so the
# adversary learns on S2, as in the paper.
X = SpeakerStandardScaler().fit_transform(corpus.data, speakers=corpus.speakers)
groups = perspective_groups(split).to_numpy(dtype=object)
truth = split["truth"].to_numpy(dtype=object)
used = split["subset"].isin(["S1", "S2"]).to_numpy()
train = used & (corpus.sessions != corpus.sessions.max())
print(f"{used.sum()} items in S1 or S2; sensitive feature known on "
      f"{pd.notna(groups[used]).sum()} of them")

# %%
# One FairRep, by hand
# --------------------
# :class:`~fairrep.FairRep` is a scikit-learn classifier and transformer.
# ``alpha`` weighs the Wasserstein term ``L_D`` (the paper grid-searches
# 0.01 and 0.001) and ``adversary_weight`` the adversarial term.
network = {"hidden_layer_sizes": (64,), "max_epochs": 15, "random_state": 0}
fairrep = FairRep(**network, embedding_dim=32, alpha=0.01, adversary_weight=3.0)
fairrep.fit(X[train], truth[train], sensitive_features=groups[train])
print("groups:", fairrep.groups_.tolist())
print("representation:", fairrep.transform(X[train]).shape)
fairrep.history_.tail(3)

# %%
# The paper's protocol: DNN against FairRep
# -----------------------------------------
# :func:`~fairrep.experiments.run_stage1` clones each model, fits it on
# four sessions and tests it on the fifth, five times. It scores each
# emotion as a one-vs-rest detector with
# :func:`~fairrep.experiments.per_class_f1` on All, S1 and S2, and
# computes :func:`~fairrep.metrics.statistical_parity_score` per emotion
# on the S2 test items: ``|P(pred = c | male perspective) - P(pred = c |
# female perspective)|``. :class:`~fairrep.baselines.DNNClassifier` is the
# same network without fairness terms; it never sees the groups.
models = {"DNN": DNNClassifier(**network), "FairRep": fairrep}
f1, parity, fit_times = run_stage1(models, X, split, corpus.sessions)
f1_mean, f1_text = summarize(f1[f1["set"] == "S1"], "f1", index=["class"])
parity_mean, parity_text = summarize(parity, "statistical_parity", index=["class"])
f1_std = f1[f1["set"] == "S1"].groupby(["class", "method"])["f1"].std(ddof=0).unstack()
parity_std = (parity.groupby(["class", "method"])["statistical_parity"]
              .std(ddof=0).unstack())
summary = pd.concat({"F1 on S1": f1_text, "parity on S2": parity_text}, axis=1)
print(summary.to_string())
print("mean parity gap over emotions:", parity_mean.mean().round(3).to_dict())

# %%
# Plot
# ----
# Left: the recognition side (higher is better). Right: the fairness side
# (lower is fairer). Bars are means over the five held-out sessions, the
# lines their standard deviation. What FairRep aims for, as in the paper's
# Tables 1 and 2: smaller parity gaps than the DNN, above all on
# frustration (the emotion the two rater groups of this corpus read most
# differently), for a small loss of F1 on the consensus set S1.
emotions = list(f1_mean.index)
fig, (ax_f1, ax_parity) = plt.subplots(1, 2, figsize=(10, 3.8))
positions = np.arange(len(emotions))
width = 0.38
for offset, name in zip((-width / 2, width / 2), models):
    ax_f1.bar(positions + offset, f1_mean[name], width, yerr=f1_std[name], label=name)
    ax_parity.bar(positions + offset, parity_mean[name], width,
                  yerr=parity_std[name], label=name)
for axis, title in ((ax_f1, "weighted F1 on S1 (higher is better)"),
                    (ax_parity, "statistical parity on S2 (lower is fairer)")):
    axis.set_xticks(positions, emotions, rotation=20)
    axis.set_title(title)
ax_f1.set_ylim(0, 1)
ax_parity.legend()
fig.suptitle("Simulated corpus, leave-one-session-out (5 folds)")
fig.tight_layout()
plt.show()
