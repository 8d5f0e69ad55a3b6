"""Errors and warnings raised by the coverage planner, and the one way to warn.

Every message says what was wrong, where (file, row, key or id), and how to
fix it. :class:`CoverageError` is the base of everything the planner raises
on purpose:

- :class:`CoverageInputError` (also a ``ValueError``): bad input, a file, a
  column, a row, a setting or an argument the planner cannot use;
- :class:`CoverageInternalError` (also a ``RuntimeError``): a check of the
  planner's own invariants failed, which is a bug to report.

Recoverable problems are reported with :func:`warn` (a
:class:`CoverageWarning`), never dropped silently.
"""

from __future__ import annotations

import warnings


class CoverageError(Exception):
    """Base of every error the coverage planner raises on purpose."""


class CoverageInputError(CoverageError, ValueError):
    """Bad input: a file, a column, a row or an argument the planner cannot use."""


class CoverageInternalError(CoverageError, RuntimeError):
    """An invariant of the planner's own results does not hold: a bug, please report it."""


class CoverageWarning(UserWarning):
    """A recoverable problem in the input, reported instead of silently dropped."""


class EstimateWarning(CoverageWarning):
    """A figure rests on an estimate rather than on measured data."""


def warn(message: str, category: type[Warning] = CoverageWarning, *, stacklevel: int = 2) -> None:
    """Report a recoverable problem, pointing at the caller of the public function.

    Parameters
    ----------
    message : str
        What happened, where, and what the planner did about it.
    category : type of Warning, default CoverageWarning
        The warning class.
    stacklevel : int, default 2
        As for :func:`warnings.warn`, counted from the function that calls
        :func:`warn` (2 = that function's caller).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("3 halls are off the network and left out: ['h1', 'h2', 'h3'].")
    >>> caught[0].category.__name__
    'CoverageWarning'
    """
    warnings.warn(message, category, stacklevel=stacklevel + 1)
