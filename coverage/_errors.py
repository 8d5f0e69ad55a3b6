"""Errors and warnings raised by the coverage planner.

Every message says what was wrong, where (file, row or id), and how to fix it.
"""

from __future__ import annotations


class CoverageInputError(ValueError):
    """Bad input: a file, a column, a row or an argument the planner cannot use."""


class CoverageWarning(UserWarning):
    """A recoverable problem in the input, reported instead of silently dropped."""


class EstimateWarning(CoverageWarning):
    """A figure rests on an estimate rather than on measured data."""
