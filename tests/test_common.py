"""scikit-learn's estimator checks over the neural estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from fairrep.baselines._dnn import DNNClassifier
from fairrep.representation import FairRep


def _small(estimator):
    # a few short epochs on tiny networks keep every check fast; enough
    # epochs remain for the checks that need a classifier above chance
    return estimator.set_params(
        hidden_layer_sizes=(16,), max_epochs=15, batch_size=16, random_state=0
    )


ESTIMATORS = [
    _small(FairRep(embedding_dim=8)),
    _small(DNNClassifier()),
]

# Every check passes today. A check that starts failing for a reason that is
# by design goes here, by estimator class name, with that reason, e.g.
# {"FairRep": {"check_name": "why it cannot pass"}}.
EXPECTED_FAILED_CHECKS: dict = {}


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
