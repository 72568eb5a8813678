"""Small shared helpers: input validation and torch device/seed handling."""

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
]
