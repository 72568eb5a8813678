"""
=========================================================
Tuning FairRep on real rater gender: POPQUORN texts
=========================================================

POPQUORN (Pei & Jurgens, 2023) has what IEMOCAP does not publish: the
gender of every rater. Its 1,500 Reddit comments were rated for
offensiveness by Man and Woman raters, so the rater groups of Chien &
Lee's strategy are real here. The items are texts, so the front end is
:class:`~fairrep.features.TextFeatures` (TF-IDF of character n-grams and
truncated SVD) instead of acoustic features; the rest is the ordinary
search of :ref:`sphx_glr_auto_examples_plot_grid_search_fairness.py`: a
:class:`~sklearn.model_selection.GridSearchCV` over FairRep's two fairness
weights, scored on weighted F1, accuracy and statistical parity between the
rater-gender perspective groups, with the majority class as the baseline
every number has to beat.

The script reads ``offensiveness_raw_data.csv`` from
``$FAIRREP_SHARED_DATA/popquorn`` when that variable is set, otherwise from
``shared/data/popquorn`` beside the repository (``../shared/data``), and
stops with a message when it finds neither. It takes about a minute of CPU
time on one thread.
"""

# %%
# The corpus and its rater groups
# -------------------------------
# :func:`~fairrep.datasets.load_popquorn` bins the 1-5 scores into "not
# offensive" (1) and "offensive" (2-5), takes the truth of a text as the
# majority vote of its Man and Woman raters (88 tied texts have none) and
# deals the texts into five seeded, truth-stratified folds.
# :func:`~fairrep.raters.perspective_split` splits the texts as section 2.1
# of the paper does: on S1 both genders' consensus equals the truth, on S2
# the genders perceive the text differently, and the text belongs to the
# perspective of the group whose ratings lean to the truth.
# :func:`~fairrep.perspective.perspective_groups` turns that into the
# sensitive attribute: the perspective's gender on S2, ``None`` on S1 (FairRep's
# fairness terms and the parity scorer use the S2 texts only), as
# ``fairrep reproduce --corpus popquorn`` does.
import os
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import sklearn
import torch
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline

from fairrep import FairRep
from fairrep.datasets import load_popquorn
from fairrep.features import TextFeatures
from fairrep.model_selection import fairness_tolerance_refit
from fairrep.perspective import perspective_groups
from fairrep.raters import perspective_split

torch.set_num_threads(1)
sklearn.set_config(enable_metadata_routing=True)


try:
    examples = Path(__file__).resolve().parent
except NameError:  # sphinx-gallery runs the script in its folder, without __file__
    examples = Path.cwd().resolve()
shared_data = os.environ.get("FAIRREP_SHARED_DATA") or examples.parents[1] / "shared" / "data"
popquorn_home = Path(shared_data) / "popquorn"
if not (popquorn_home / "offensiveness_raw_data.csv").is_file():
    sys.exit(f"POPQUORN not found: no offensiveness_raw_data.csv in {popquorn_home}. "
             "Set FAIRREP_SHARED_DATA to the folder that holds popquorn/ "
             "(the POPQUORN offensiveness ratings of Pei & Jurgens, 2023).")

popquorn = load_popquorn(popquorn_home)
texts = popquorn.texts
split = perspective_split(popquorn.ratings, rater="rater", truth=texts["truth"])
split = split.loc[texts.index]
used = split["subset"].isin(["S1", "S2"]).to_numpy()  # texts with a truth
X = texts["text"].to_numpy(dtype=object)[used]
y = split["truth"].to_numpy(dtype=object)[used]
gender = perspective_groups(split).to_numpy(dtype=object)[used]
folds = texts["fold"].to_numpy()[used]
print(f"{len(X)} texts: {split['subset'].value_counts()[['S1', 'S2']].to_dict()}; "
      f"S2 perspectives {pd.Series(gender).value_counts().to_dict()}")
print("truth:", pd.Series(y).value_counts().to_dict())

# %%
# The pipeline and the grid
# -------------------------
# TextFeatures is fitted on each training fold (it reads no label);
# ``memory`` caches those fits, so the eight candidates share five of them.
# FairRep is small and short-trained (10 epochs of batch 64: 180 steps a
# fit) to keep the search near a minute; its own classification head
# predicts. The grid crosses ``alpha`` (weight of the Wasserstein distance
# :math:`L_D`, eq. 1) with the adversary's weight; ``alpha = 0`` and
# ``adversary_weight = 0`` is the plain network.
#
# The refit rule :func:`~fairrep.model_selection.fairness_tolerance_refit`
# keeps the candidates whose mean parity gap over the five folds is at most
# ``TOLERANCE`` and that never predict a single class, and refits the one
# with the best weighted F1. The folds are the loader's, so every text is
# scored exactly once.
TOLERANCE = 0.05
cache = tempfile.TemporaryDirectory()
pipe = Pipeline([
    ("text", TextFeatures(n_components=64)),
    ("fairrep", FairRep(hidden_layer_sizes=(64,), embedding_dim=32, batch_size=64,
                        max_epochs=10, random_state=0)
     .set_fit_request(sensitive_features=True)),
], memory=cache.name)
grid = {"fairrep__alpha": [0.0, 0.01, 0.1, 1.0],
        "fairrep__adversary_weight": [0.0, 3.0]}
refit = fairness_tolerance_refit(TOLERANCE, score="f1_weighted")
scoring = {**refit.scoring, "accuracy": "accuracy"}
cv = GroupKFold(n_splits=5)
search = GridSearchCV(pipe, grid, scoring=scoring, refit=refit, cv=cv)
search.fit(X, y, sensitive_features=gender, groups=folds)

# %%
# The majority class, scored the same way
# ---------------------------------------
# A classifier that always predicts the training folds' most frequent class
# ("not offensive", 61 % of the texts) has a parity gap of 0 for free.
majority = cross_validate(DummyClassifier(strategy="most_frequent"), X, y, cv=cv,
                          scoring=scoring,
                          params={"sensitive_features": gender, "groups": folds})
baseline = {"f1": float(majority["test_f1_weighted"].mean()),
            "accuracy": float(majority["test_accuracy"].mean()),
            "parity_gap": float(abs(majority["test_statistical_parity"].mean()))}
print("majority class:", {k: round(v, 3) for k, v in baseline.items()})

cv_results = search.cv_results_
results = pd.DataFrame({
    "alpha": cv_results["param_fairrep__alpha"],
    "adversary_weight": cv_results["param_fairrep__adversary_weight"],
    "f1": cv_results["mean_test_f1_weighted"],
    "f1_sd": cv_results["std_test_f1_weighted"],
    "accuracy": cv_results["mean_test_accuracy"],
    "parity_gap": -cv_results["mean_test_statistical_parity"],
    "parity_sd": cv_results["std_test_statistical_parity"],
    "constant": cv_results["mean_test_constant_prediction"] > 0,
})
results["f1_margin"] = results["f1"] - baseline["f1"]
results["accuracy_margin"] = results["accuracy"] - baseline["accuracy"]
print(results.round(3).to_string())
print("chosen:", search.best_params_, "weighted F1",
      round(results["f1"][search.best_index_], 3), "parity gap",
      round(results["parity_gap"][search.best_index_], 3))
print("groups seen by the refitted FairRep:",
      search.best_estimator_[-1].groups_.tolist())

# %%
# The trade-off
# -------------
# Each point is one candidate, its mean over the five folds: weighted F1
# (left) and accuracy (right) on all test texts against the parity gap
# between the Man and Woman perspective groups on the S2 texts. Up and to
# the left is better. Colour is ``alpha``, a circle ``adversary_weight=0``
# and a square ``3``; the star and the dashed line are the majority class,
# the dotted line the tolerance. With 90 to 104 S2 texts in a test fold, one prediction moves a
# group's rate by about two points and the parity gap's fold std is of the
# order of the differences between candidates: read the ranking as rough.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharex=True)
chosen = results.iloc[search.best_index_]
alphas = sorted(results["alpha"].unique())
markers = {0.0: "o", 3.0: "s"}  # adversary weight
for axis, column, name in ((axes[0], "f1", "weighted F1"),
                           (axes[1], "accuracy", "accuracy")):
    for row in results.itertuples():
        axis.scatter(row.parity_gap, getattr(row, column), s=55,
                     marker=markers[row.adversary_weight],
                     color=plt.cm.viridis(alphas.index(row.alpha) / (len(alphas) - 1)),
                     label=f"alpha={row.alpha:g}, w={row.adversary_weight:g}")
    axis.scatter([baseline["parity_gap"]], [baseline[column]], marker="*", s=250,
                 c="C1", label="majority class")
    axis.axhline(baseline[column], c="C1", ls="--", lw=1)
    axis.scatter([chosen["parity_gap"]], [chosen[column]], s=230, facecolors="none",
                 edgecolors="C3", linewidths=2, label="refitted (best F1 within t)")
    axis.axvline(TOLERANCE, c="grey", ls=":", lw=1, label=f"tolerance t = {TOLERANCE}")
    axis.set_xlabel("parity gap on S2, Man vs Woman (lower is fairer)")
    axis.set_ylabel(f"{name}, mean over five folds")
    axis.margins(x=0.1, y=0.1)
axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
fig.suptitle("POPQUORN offensiveness: FairRep's fairness weights against the majority class")
fig.tight_layout()
plt.show()

sklearn.set_config(enable_metadata_routing=False)
cache.cleanup()
