"""
=====================================================
Switching perspectives with FairPer (no refitting)
=====================================================

Stage 2 of Chien & Lee (section 2.2.3, Fig. 4): once a fair representation
is learned (:class:`~fairrep.FairRep`, stage 1), :class:`~fairrep.FairPer`
learns one classifier head per *perspective*, here the male raters'
consensus, the female raters' consensus and the gender-free truth, with a
triplet loss that keeps items of the same rater-group perspective close
(``L_Per = L_2 + lambda * L_T``). A user switches between the perspectives
with ``set_params(perspective=...)``; nothing is retrained.

We score each head against the labels of its own perspective (the
paper's Table 3 gives this weighted F1 under the male and the female
labels per emotion; here it is one multiclass weighted F1 per
perspective) and compare it with the gender-free FairRep, which predicts
the same label whoever asks. The corpus is fairrep's simulated one;
sizes and epochs are small so that the script runs quickly, and the
numbers are those of this run.
"""

# %%
# Data: the simulated corpus, its S1/S2 split and the perspective targets
# -----------------------------------------------------------------------
# :func:`~fairrep.perspective.perspective_targets` turns the split into
# FairPer's two inputs: ``Y`` with one column per perspective (each group's
# consensus, then the truth as ``"all"``; missing where a group has no
# consensus) and the perspective group of each item for the triplets (the
# group the truth follows on S2, ``None`` elsewhere).
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score

from fairrep import FairPer, FairRep
from fairrep.datasets import make_rater_perspectives
from fairrep.features import SpeakerStandardScaler
from fairrep.metrics import consistency_score
from fairrep.perspective import perspective_targets
from fairrep.raters import perspective_split

torch.set_num_threads(1)

corpus = make_rater_perspectives(1500, random_state=0)
split = perspective_split(corpus.ratings, truth=corpus.truth)
split = split.loc[corpus.item_info.index]
used = split["subset"].isin(["S1", "S2"]).to_numpy()
X = SpeakerStandardScaler().fit_transform(corpus.data, speakers=corpus.speakers)[used]
Y, groups = perspective_targets(split[used])
groups = groups.to_numpy(dtype=object)
sessions = corpus.sessions[used]
test = sessions == sessions.max()
train = ~test
Y.head()

# %%
# Stage 1, then stage 2 on top of it
# ----------------------------------
# FairRep is trained on the truth (the last column of ``Y``) with the
# perspective groups as sensitive features. FairPer receives the *fitted*
# FairRep and uses it as it is (``freeze_representation=True``); with
# ``passthrough=True`` (the default) its adapter reads the representation
# and the input features side by side.
fairrep = FairRep(hidden_layer_sizes=(64,), embedding_dim=32, max_epochs=15,
                  random_state=0)
fairrep.fit(X[train], Y["all"].to_numpy(dtype=object)[train],
            sensitive_features=groups[train])

fairper = FairPer(fairrep, max_epochs=25, weight_decay=1e-2, random_state=0)
fairper.fit(X[train], Y.iloc[train], sensitive_features=groups[train])
print("perspectives:", fairper.perspectives_.tolist())
print("default perspective:", fairper.get_params()["perspective"], "-> the last column")

# %%
# Every perspective at once, and switching one
# --------------------------------------------
# :meth:`~fairrep.FairPer.predict_all` gives one column per perspective.
# ``set_params(perspective=...)`` changes what :meth:`~fairrep.FairPer.predict`
# returns; the trained network is the same object, with the same number
# of epochs behind it.
table = fairper.predict_all(X[test])
table.insert(0, "truth", Y["all"].to_numpy(dtype=object)[test])
table.insert(1, "subset", split[used]["subset"].to_numpy(dtype=object)[test])
disagree = table[table["male"] != table["female"]]
print(f"{len(disagree)} of {len(table)} test items get different male and female "
      "predictions, e.g.:")
print(disagree.head(8).to_string())

epochs_before = fairper.n_iter_
for perspective in ("male", "female", "all"):
    switched = fairper.set_params(perspective=perspective).predict(X[test])
    assert (switched == table[perspective].to_numpy()).all()
assert fairper.n_iter_ == epochs_before  # switching trained nothing

# %%
# Per-perspective F1 against each group's consensus
# -------------------------------------------------
# Under perspective ``p`` the target of an item is the consensus of group
# ``p`` (the truth for ``"all"``), on the test items where it exists. The
# gender-free FairRep is scored against the same targets: it has only one
# answer, so a group whose reading differs from the truth loses with it.
rows = {}
for perspective in Y.columns:
    target = Y[perspective].to_numpy(dtype=object)[test]
    known = pd.notna(target)
    rows[perspective] = {
        "FairPer head": f1_score(target[known], table[perspective].to_numpy()[known],
                                 average="weighted"),
        "FairRep (gender-free)": f1_score(
            target[known], fairrep.predict(X[test])[known], average="weighted"),
        "n_items": int(known.sum()),
    }
f1_table = pd.DataFrame.from_dict(rows, orient="index")
print(f1_table.round(3))

# %%
# Consistency of the perspective groups (Table 4)
# -----------------------------------------------
# The paper's stage-2 fairness measure: on the S2 items, how many of each
# item's k = 20 nearest neighbours in the embedding share its perspective
# group (:func:`~fairrep.metrics.consistency_score`, ideal 1). FairPer's
# triplet loss pulls items of one perspective together; FairRep's
# representation was trained to mix them.
on_s2 = pd.notna(groups[test])
fairper.set_params(perspective="male")
consistency = {
    "FairRep": consistency_score(fairrep.transform(X[test])[on_s2],
                                 groups[test][on_s2], n_neighbors=20),
    "FairPer": consistency_score(fairper.transform(X[test])[on_s2],
                                 groups[test][on_s2], n_neighbors=20),
}
print({name: round(value, 3) for name, value in consistency.items()})

# %%
# Plot
# ----
fig, axis = plt.subplots(figsize=(6.5, 3.8))
positions = np.arange(len(f1_table))
width = 0.38
for offset, column in zip((-width / 2, width / 2),
                          ("FairRep (gender-free)", "FairPer head")):
    axis.bar(positions + offset, f1_table[column], width, label=column)
axis.set_xticks(positions, [f"{p}\n({n} items)" for p, n in
                            zip(f1_table.index, f1_table["n_items"])])
axis.set_ylabel("weighted F1 against the perspective's labels")
axis.set_ylim(0, 1)
axis.legend(loc="lower right")
axis.set_title("Held-out session: one model, three perspectives")
fig.tight_layout()
plt.show()
