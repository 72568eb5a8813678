"""Stage 2: perspective-switchable classification (section 2.2.3 of Chien & Lee).

:class:`FairPer` learns, on the fair representation of stage 1, one
classifier head per rater-group perspective (and the gender-free truth)
with a triplet embedding that keeps samples of the same perspective group
close; :func:`perspective_targets` and :func:`perspective_groups` build its
training targets from multi-rater labels.
"""

from ._fairper import FairPer
from ._targets import perspective_groups, perspective_targets

__all__ = ["FairPer", "perspective_groups", "perspective_targets"]
