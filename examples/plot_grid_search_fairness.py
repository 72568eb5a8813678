"""
=====================================================
Choosing alpha by grid search on accuracy and parity
=====================================================

The paper grid-searches its trade-off weights over ``[0.01, 0.001]``
(Chien & Lee, section 3.1). With fairrep this is an ordinary
:class:`~sklearn.model_selection.GridSearchCV` over a
:class:`~sklearn.pipeline.Pipeline` ending in :class:`~fairrep.FairRep`:
the rater groups travel as ``sensitive_features`` through scikit-learn's
metadata routing, to FairRep's ``fit`` on each training fold and to the
:data:`~fairrep.metrics.statistical_parity_scorer` on each test fold; the
search records accuracy and the parity gap of every candidate, and
``refit`` picks the trade-off we ask for.

The corpus is fairrep's simulated one; sizes, folds and epochs are small
so that the whole search runs in well under a minute on one CPU thread.
"""

# %%
# Routing on, data ready
# ----------------------
# Metadata routing is a global scikit-learn switch. Each consumer says what
# it wants: ``FairRep.set_fit_request(sensitive_features=True)``; the parity
# scorer requests ``sensitive_features`` by itself; ``GroupKFold`` requests
# ``groups``.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fairrep import FairRep
from fairrep.datasets import make_rater_perspectives
from fairrep.features import SpeakerStandardScaler
from fairrep.metrics import statistical_parity_scorer
from fairrep.perspective import perspective_groups
from fairrep.raters import perspective_split

torch.set_num_threads(1)
sklearn.set_config(enable_metadata_routing=True)

corpus = make_rater_perspectives(1000, random_state=0)
split = perspective_split(corpus.ratings, truth=corpus.truth)
split = split.loc[corpus.item_info.index]
used = split["subset"].isin(["S1", "S2"]).to_numpy()
truth = split["truth"].to_numpy(dtype=object)[used]
groups = perspective_groups(split).to_numpy(dtype=object)[used]
sessions = corpus.sessions[used]

# %%
# Per-speaker z-normalisation (section 2.2.1) is done once, before the
# search. It is unsupervised and computed speaker by speaker, and the folds
# below hold out whole sessions (hence whole speakers), so normalising each
# fold separately would give the same numbers.
# (:class:`~fairrep.features.SpeakerStandardScaler` can also be a pipeline
# step with ``set_fit_request(speakers=True).set_transform_request(speakers=True)``,
# but a scorer calls ``predict(X)`` without metadata, so inside a search it
# would not receive the test fold's speakers.)
X = SpeakerStandardScaler().fit_transform(corpus.data, speakers=corpus.speakers)[used]
print(f"{X.shape[0]} items; sensitive feature known on "
      f"{pd.notna(groups).sum()} (S2), None on {pd.isna(groups).sum()} (S1)")

# %%
# The search
# ----------
# The grid crosses the paper's two values of ``alpha`` (weight of the
# Wasserstein term) with two adversary weights, and adds the plain network
# (both weights 0) as a reference. ``sensitive_features`` is ``None`` on S1
# items: FairRep's adversary and distance then use S2 items only, and the
# parity scorer leaves S1 out, so each test fold is scored on its S2 items,
# as in Table 2. The parity scorer returns the *negated* worst-class gap,
# so that greater is better.
pipe = Pipeline([
    ("scale", StandardScaler()),
    ("fairrep", FairRep(hidden_layer_sizes=(64,), embedding_dim=32, max_epochs=15,
                        random_state=0).set_fit_request(sensitive_features=True)),
])
grid = [
    {"fairrep__alpha": [0.01, 0.001], "fairrep__adversary_weight": [1.0, 3.0]},
    {"fairrep__alpha": [0.0], "fairrep__adversary_weight": [0.0]},
]
scoring = {"accuracy": "accuracy", "parity": statistical_parity_scorer}

# %%
# ``refit`` takes a callable that reads ``cv_results_`` and returns the
# index of the candidate to refit on all the data. Ours weighs both goals
# equally: it picks the candidate with the largest ``accuracy - parity
# gap``, i.e. one point of parity gap costs as much as one point of
# accuracy. (``refit="accuracy"`` would pick the most accurate candidate,
# whatever its gap.)


def accuracy_minus_gap(cv_results):
    """Index of the candidate with the best accuracy minus parity gap."""
    accuracy = np.asarray(cv_results["mean_test_accuracy"])
    gap = -np.asarray(cv_results["mean_test_parity"])
    return int(np.argmax(accuracy - gap))


search = GridSearchCV(pipe, grid, scoring=scoring, refit=accuracy_minus_gap,
                      cv=GroupKFold(n_splits=3))
search.fit(X, truth, sensitive_features=groups, groups=sessions)

results = pd.DataFrame({
    "alpha": search.cv_results_["param_fairrep__alpha"],
    "adversary_weight": search.cv_results_["param_fairrep__adversary_weight"],
    "accuracy": search.cv_results_["mean_test_accuracy"],
    "parity_gap": -search.cv_results_["mean_test_parity"],
    "fit_time_s": search.cv_results_["mean_fit_time"],
})
print(results.round(3).to_string())
print("chosen:", search.best_params_)

# %%
# The refitted pipeline is an ordinary estimator: its FairRep step was
# trained with the routed groups on all the data.
chosen = search.best_estimator_
print("groups seen by the refitted FairRep:", chosen[-1].groups_.tolist())
print("its last epoch's losses:",
      chosen[-1].history_.iloc[-1].drop(["epoch", "dur"]).round(3).to_dict())

# %%
# The trade-off
# -------------
# Each point is one candidate (mean over the three session folds): accuracy
# against the worst-class parity gap on S2. Up and to the left is better.
fig, axis = plt.subplots(figsize=(6.5, 4.2))
axis.scatter(results["parity_gap"], results["accuracy"], s=40)
for row in results.itertuples():
    axis.annotate(f"alpha={row.alpha:g}, w={row.adversary_weight:g}",
                  (row.parity_gap, row.accuracy), textcoords="offset points",
                  xytext=(6, 4 if row.Index % 2 else -10), fontsize=8)
best = results.iloc[search.best_index_]
axis.scatter([best["parity_gap"]], [best["accuracy"]], s=160, facecolors="none",
             edgecolors="C3", linewidths=2, label="refitted (best accuracy - gap)")
axis.margins(x=0.25, y=0.15)  # room for the labels
axis.set_xlabel("worst-class statistical parity gap on S2 (lower is fairer)")
axis.set_ylabel("accuracy (all test items)")
axis.set_title("GridSearchCV over FairRep's alpha and adversary weight")
axis.legend(loc="lower right")
fig.tight_layout()
plt.show()

sklearn.set_config(enable_metadata_routing=False)
