"""The paper's study as reusable code: session-independent protocol and result tables."""

from ._protocol import per_class_f1, run_stage1, session_folds, summarize

__all__ = ["per_class_f1", "run_stage1", "session_folds", "summarize"]
