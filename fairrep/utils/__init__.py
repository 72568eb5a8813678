"""Small shared helpers: input validation, torch device/seed handling, persistence."""

from ._persistence import skops_trusted_types
from ._validation import (
    check_positive_int,
    check_sensitive_features,
    encode_groups,
    is_missing,
)

__all__ = [
    "check_positive_int",
    "check_sensitive_features",
    "encode_groups",
    "is_missing",
    "skops_trusted_types",
]
