"""Name rows and columns of user tables in messages, as the user counts and spells them.

- :class:`RowRef`: CSV rows as a spreadsheet numbers them (the header is row
  1), JSON records and features from 1 in file order, frames by index label;
- :func:`resolve_column`: the column the user named, exactly, with a "did you
  mean" when it is misspelt (never a silent fallback), or a guess from common
  names when none is given;
- :func:`few`: up to ten values of a list, saying how many more there are.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import CoverageInputError

__all__ = ["RowRef", "few", "resolve_column"]


def few(items: Iterable[Any], limit: int = 10, *, quote: bool = True) -> str:
    """Format up to ``limit`` items, saying how many more there are.

    Examples
    --------
    >>> few(["a", "b", "c"], 2)
    "'a', 'b' … and 1 more"
    """
    items = list(items)
    shown = ", ".join(repr(i) if quote and not isinstance(i, tuple) else str(i) for i in items[:limit])
    if len(items) > limit:
        shown += f" … and {len(items) - limit:,} more"
    return shown


@dataclass(frozen=True)
class RowRef:
    """How the rows of one input are named in messages.

    Attributes
    ----------
    label : str
        The file path, or a description of the frame.
    kind : {"csv", "records", "features", "frame"}
        CSV rows are numbered as a spreadsheet shows them (the header is row
        1, so the first data row is row 2); JSON records and features from 1
        in file order; frames by index label.
    numbers : numpy.ndarray or None
        For ``csv``: the spreadsheet row of each data row (blank lines count,
        as they do in a spreadsheet). For ``frame``: unused.
    index : pandas.Index or None
        For ``frame``: the index labels.

    Examples
    --------
    >>> RowRef("halls.csv", "csv", np.array([2, 3, 5])).describe([0, 2])
    'rows 2, 5 (spreadsheet row numbers: the header is row 1)'
    """

    label: str
    kind: Literal["csv", "records", "features", "frame"]
    numbers: npt.NDArray[np.int64] | None = None
    index: pd.Index | None = field(default=None, compare=False)

    @classmethod
    def for_frame(cls, frame: pd.DataFrame, label: str) -> RowRef:
        """Rows of a frame, named by index label."""
        return cls(label, "frame", None, frame.index)

    def subset(self, positions: npt.ArrayLike) -> RowRef:
        """Return the naming of the rows at ``positions`` (after filtering)."""
        pos = np.asarray(positions)
        if pos.dtype == bool:
            pos = np.flatnonzero(pos)
        if self.kind == "frame":
            return RowRef(self.label, "frame", None, None if self.index is None else self.index[pos])
        numbers = self.numbers if self.numbers is not None else np.arange(1, pos.max(initial=-1) + 2)
        return RowRef(self.label, self.kind, np.asarray(numbers)[pos], None)

    def describe(self, positions: npt.ArrayLike, limit: int = 10) -> str:
        """Name the rows at 0-based ``positions`` (or a boolean mask) as the user counts them."""
        pos = np.asarray(positions)
        if pos.dtype == bool:
            pos = np.flatnonzero(pos)
        pos = pos.astype(np.int64)
        if self.kind == "frame":
            labels = list(self.index[pos]) if self.index is not None else pos.tolist()
            word = "row" if len(labels) == 1 else "rows"
            return f"{word} with index {few([str(v) for v in labels], limit, quote=False)}"
        numbers = self.numbers[pos].tolist() if self.numbers is not None else (pos + 1).tolist()
        text = few([str(v) for v in numbers], limit, quote=False)
        if self.kind == "csv":
            word = "row" if len(numbers) == 1 else "rows"
            return f"{word} {text} (spreadsheet row numbers: the header is row 1)"
        word = {"records": "record", "features": "feature"}[self.kind]
        return f"{word}{'' if len(numbers) == 1 else 's'} {text} (counting from 1 in file order)"


# ---------------------------------------------------------------------------
# columns
# ---------------------------------------------------------------------------


def resolve_column(
    columns: Sequence[Any],
    wanted: str | None,
    *,
    key: str,
    label: str,
    guesses: Sequence[str] = (),
    what: str = "",
    required: bool = True,
) -> str | None:
    """Find the column the user named (exactly), or guess it from common names.

    A name given by the user must match a column exactly; otherwise the error
    lists the columns and the closest names ("did you mean"). There is never
    a silent fallback to another column.

    Parameters
    ----------
    columns : sequence
        The columns of the table.
    wanted : str or None
        The name the user gave; None to guess from ``guesses``.
    key : str
        The argument or scenario key naming the column, e.g. ``"lon_col"``.
    label : str
        The file or frame, for the message.
    guesses : sequence of str
        Names tried (case-insensitively, in order) when ``wanted`` is None.
    what : str
        What the column holds, for the message ("longitude").
    required : bool, default True
        Raise when nothing is found (else return None).

    Returns
    -------
    str or None

    Examples
    --------
    >>> resolve_column(["lng", "lat"], None, key="lon_col", label="x.csv", guesses=("lon", "lng"))
    'lng'
    >>> resolve_column(["population"], "popluation", key="population_col", label="x.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coverage._errors.CoverageInputError: x.csv: no column 'popluation' ... Did you mean 'population'? ...
    """
    names = [str(c) for c in columns if str(c) != "geometry"]
    what_text = f" {what}" if what else ""
    if wanted is not None:
        if not isinstance(wanted, str):
            raise CoverageInputError(f"{key}={wanted!r:.80}: give a column name (text), e.g. {key}='name'.")
        if wanted in names:
            return wanted
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
        folded = [n for n in names if n.strip().casefold() == wanted.strip().casefold() and n not in close]
        close = folded + close
        hint = f" Did you mean {few(close, 3)}?" if close else ""
        raise CoverageInputError(
            f"{label}: no{what_text} column {wanted!r} ({key}); the columns are {few(names, 30)}.{hint} "
            f"Pass {key}= with the exact name."
        )
    lower = {n.strip().casefold(): n for n in reversed(names)}
    for guess in guesses:
        found = lower.get(guess.casefold())
        if found is not None:
            return found
    if not required:
        return None
    tried = f" (tried {few(guesses, 8)})" if guesses else ""
    raise CoverageInputError(
        f"{label}: cannot find a{what_text} column{tried}; the columns are {few(names, 30)}. Pass {key}= naming it."
    )
