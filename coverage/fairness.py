"""Fairness: Gini, Palma and Theil indices of walking distance and of coverage.

The indices are population-weighted: a demand unit of 300 people counts as 300
people with the same value. They answer "is access shared evenly?":

- **Gini** (0 = everyone equal, towards 1 = one person holds everything): half
  the mean absolute difference between two people, over the mean;
- **Palma**: the share held by the top 10 % over the share held by the bottom
  40 % (for walking distance: the longest-walking 10 % over the
  shortest-walking 40 %); a unit is split across the 10 %/40 % cut-offs;
- **Theil T**: the mean of ``(x/μ) ln(x/μ)``; it splits exactly into a part
  *within* groups (or communities) and a part *between* them.

Across residents the value is each resident's walking distance. Across
communities or groups the value is the community's (group's) mean walking
distance or its coverage share, weighted by its population.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import CoverageInputError, warn
from ._types import FloatArray

__all__ = [
    "FairnessResult",
    "TheilDecomposition",
    "coverage_by_community",
    "fairness",
    "gini",
    "palma",
    "theil",
    "theil_decomposition",
]


def _arrays(values: npt.ArrayLike, weights: npt.ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(values, dtype=np.float64).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != x.shape:
        raise CoverageInputError(f"values ({x.size}) and weights ({w.size}) must have the same length.")
    if x.size == 0:
        raise CoverageInputError("no values: an inequality index needs at least one value.")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise CoverageInputError(
            "values must be finite and >= 0 (distances in metres, shares); drop or cap unreachable (inf) ones first."
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise CoverageInputError("weights (population) must be finite, >= 0 and not all zero.")
    return x, w


def gini(values: npt.ArrayLike, weights: npt.ArrayLike | None = None) -> float:
    """Population-weighted Gini index.

    ``G = Σᵢ Σⱼ wᵢ wⱼ |xᵢ − xⱼ| / (2 W² μ)``, computed in O(n log n) from the
    sorted values. 0 when everyone has the same value (or everything is 0).

    Parameters
    ----------
    values : array-like
        Non-negative values (walking distances, coverage shares).
    weights : array-like, optional
        People per value (default: 1 each).

    Returns
    -------
    float

    Examples
    --------
    >>> gini([1, 1, 1])
    0.0
    >>> round(gini([0, 0, 0, 1]), 6)
    0.75
    >>> gini([0, 1], weights=[3, 1]) == gini([0, 0, 0, 1])
    True
    """
    x, w = _arrays(values, weights)
    total = w.sum()
    mean = float((w * x).sum() / total)
    if mean == 0.0 or float(np.ptp(x[w > 0])) == 0.0:
        return 0.0
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    before = np.cumsum(ws) - ws
    after = total - before - ws
    pair_sum = 2.0 * float((ws * xs * (before - after)).sum())
    return float(max(0.0, pair_sum / (2.0 * total * total * mean)))


def _lorenz(xs: FloatArray, ws: FloatArray, p: float) -> float:
    """Value held by the bottom share ``p`` of the weight (values sorted ascending, units split)."""
    cum = np.cumsum(ws)
    cut = p * cum[-1]
    start = cum - ws
    taken = np.clip(cut - start, 0.0, ws)
    return float((taken * xs).sum())


def palma(values: npt.ArrayLike, weights: npt.ArrayLike | None = None) -> float:
    """Palma ratio: share of the top 10 % over share of the bottom 40 % (population-weighted).

    Units straddling a cut-off are split in proportion to their people.
    ``inf`` when the bottom 40 % hold nothing but the top 10 % hold something;
    1/4 (= 10 %/40 %) when everyone is equal.

    Examples
    --------
    >>> palma([1] * 10)
    0.25
    >>> palma(range(1, 11))  # top 10 % hold 10, bottom 40 % hold 1+2+3+4
    1.0
    """
    x, w = _arrays(values, weights)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    total = float((xs * ws).sum())
    bottom = _lorenz(xs, ws, 0.4)
    top = total - _lorenz(xs, ws, 0.9)
    if bottom == 0.0:
        return 0.0 if top == 0.0 else math.inf
    return float(top / bottom)


def theil(values: npt.ArrayLike, weights: npt.ArrayLike | None = None) -> float:
    """Theil T index: the weighted mean of ``(x/μ) ln(x/μ)`` (``0 ln 0 = 0``).

    0 when everyone is equal; at most ``ln(W)`` for ``W`` people.

    Examples
    --------
    >>> theil([2, 2, 2])
    0.0
    >>> round(theil([0, 1]), 6) == round(math.log(2), 6)
    True
    """
    x, w = _arrays(values, weights)
    mean = float((w * x).sum() / w.sum())
    if mean == 0.0 or float(np.ptp(x[w > 0])) == 0.0:
        return 0.0
    r = x / mean
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
    return float(max(0.0, float((w * terms).sum() / w.sum())))


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil T split into within-group and between-group parts (``total = within + between``).

    Attributes
    ----------
    total, within, between : float
    groups : pandas.DataFrame
        Per group: ``group``, ``population``, ``mean``, ``value_share`` (its
        share of the total value), ``theil`` (within the group).
    """

    total: float
    within: float
    between: float
    groups: pd.DataFrame


def theil_decomposition(
    values: npt.ArrayLike, groups: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> TheilDecomposition:
    """Split the Theil T index into within-group and between-group parts.

    ``T = Σ_g s_g T_g + Σ_g s_g ln(μ_g / μ)`` where ``s_g`` is group g's share of
    the total value and ``T_g`` the index within g.

    Parameters
    ----------
    values : array-like
        Non-negative values per unit.
    groups : array-like
        Group label per unit (community, sub-district, age group).
    weights : array-like, optional
        People per unit.

    Returns
    -------
    TheilDecomposition

    Examples
    --------
    >>> d = theil_decomposition([1, 1, 3, 3], ["a", "a", "b", "b"])
    >>> round(d.within, 12), round(d.between - d.total, 12)
    (0.0, 0.0)
    """
    x, w = _arrays(values, weights)
    labels = np.asarray(groups, dtype=object).ravel()
    if labels.shape != x.shape:
        raise CoverageInputError(f"groups ({labels.size}) and values ({x.size}) must have the same length.")
    total_value = float((w * x).sum())
    mean = total_value / float(w.sum())
    rows = []
    within = between = 0.0
    for label in sorted(set(labels.tolist()), key=str):
        sel = labels == label
        wg, xg = w[sel], x[sel]
        pop = float(wg.sum())
        value = float((wg * xg).sum())
        share = value / total_value if total_value > 0 else 0.0
        mean_g = value / pop if pop > 0 else 0.0
        t_g = theil(xg, wg) if pop > 0 else 0.0
        within += share * t_g
        if share > 0:
            between += share * math.log(mean_g / mean)
        rows.append({"group": label, "population": pop, "mean": mean_g, "value_share": share, "theil": t_g})
    return TheilDecomposition(total=theil(x, w), within=within, between=max(0.0, between), groups=pd.DataFrame(rows))


def coverage_by_community(
    units: pd.DataFrame,
    *,
    covered_col: str = "covered",
    population_col: str = "population",
    community_col: str = "community",
    group_col: str | None = "group",
    distance_col: str | None = "distance_m",
    overall_group: str | None = None,
) -> pd.DataFrame:
    """Per-community coverage: population, covered, share, mean walking distance, per group.

    Parameters
    ----------
    units : pandas.DataFrame
        One row per demand unit.
    covered_col : str, default "covered"
        Boolean column (or a ``status`` column whose value ``"covered"`` means covered).
    population_col, community_col : str
        People per unit and the community it lies in.
    group_col : str, optional
        Demand group; each group gets its own rows besides ``all``.
    distance_col : str, optional
        Walking distance in metres (inf where unreachable); its population-
        weighted mean over reachable people is reported.
    overall_group : str, optional
        The group whose rows make the ``all`` rows when the groups overlap
        (default: every row).

    Returns
    -------
    pandas.DataFrame
        ``community``, ``group``, ``population``, ``covered``, ``covered_share``,
        ``mean_distance_m``, ``unreachable``; sorted by community and group.
    """
    frame = _unit_frame(units, covered_col, population_col, community_col, group_col, distance_col)
    overall = frame if overall_group is None or group_col is None else frame[frame["group"] == overall_group]
    parts = [overall.assign(group="all")]
    if group_col is not None:
        parts.append(frame)
    both = pd.concat(parts, ignore_index=True)
    pop = both["population"].to_numpy()
    reach = np.isfinite(both["distance_m"].to_numpy())
    both = both.assign(
        covered_pop=np.where(both["covered"].to_numpy(), pop, 0.0),
        reach_pop=np.where(reach, pop, 0.0),
        walk=np.where(reach, both["distance_m"].to_numpy(), 0.0) * pop,
    )
    sums = both.groupby(["community", "group"], sort=True)[["population", "covered_pop", "reach_pop", "walk"]].sum()
    p, c, r, w = (sums[k].to_numpy() for k in ("population", "covered_pop", "reach_pop", "walk"))
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "community": sums.index.get_level_values("community"),
                "group": sums.index.get_level_values("group"),
                "population": p,
                "covered": c,
                "covered_share": np.where(p > 0, c / np.where(p > 0, p, 1.0), np.nan),
                "mean_distance_m": np.where(r > 0, w / np.where(r > 0, r, 1.0), np.nan),
                "unreachable": p - r,
            }
        )


def _unit_frame(
    units: pd.DataFrame,
    covered_col: str,
    population_col: str,
    community_col: str | None,
    group_col: str | None,
    distance_col: str | None,
) -> pd.DataFrame:
    for col in (covered_col, population_col, community_col, group_col, distance_col):
        if col is not None and col not in units.columns:
            raise CoverageInputError(
                f"units has no column {col!r}; its columns are {list(units.columns)[:20]}. Name the right column."
            )
    covered = units[covered_col]
    flag = (
        covered.to_numpy(dtype=bool)
        if pd.api.types.is_bool_dtype(covered)
        else (covered.astype(str) == "covered").to_numpy()
    )
    pop = pd.to_numeric(units[population_col], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(pop)) or np.any(pop < 0):
        raise CoverageInputError(f"units[{population_col!r}] must be finite numbers >= 0.")
    dist = (
        pd.to_numeric(units[distance_col], errors="coerce").to_numpy(dtype=np.float64)
        if distance_col is not None
        else np.where(flag, 0.0, np.inf)
    )
    if np.any(np.isnan(dist)) or np.any(dist < 0):
        raise CoverageInputError(f"units[{distance_col!r}] must be metres >= 0 (inf where unreachable), never NaN.")
    community = units[community_col].astype(str).to_numpy() if community_col else np.full(len(units), "(all)")
    group = units[group_col].astype(str).to_numpy() if group_col else np.full(len(units), "all")
    return pd.DataFrame(
        {"population": pop, "covered": flag, "distance_m": dist, "community": community, "group": group}
    )


@dataclass(frozen=True, eq=False)
class FairnessResult:
    """Inequality indices of walking distance and coverage, and the per-community table.

    Attributes
    ----------
    indices : pandas.DataFrame
        One row per ``measure`` (``distance_m``, ``coverage``) and ``across``
        (``residents``, ``communities``, ``groups``): ``gini``, ``palma``,
        ``theil``, ``theil_within`` and ``theil_between`` (residents split by
        community, for walking distance), ``units``, ``population``.
    communities : pandas.DataFrame
        :func:`coverage_by_community`.
    unreachable_population : float
        People with no reachable hall, left out of the walking-distance indices.
    """

    indices: pd.DataFrame
    communities: pd.DataFrame
    unreachable_population: float

    def headline(self) -> str:
        """Return one line per index row."""
        lines = []
        for r in self.indices.itertuples():
            lines.append(
                f"{r.measure} across {r.across}: Gini {r.gini:.3f}, Palma {r.palma:.2f}, Theil {r.theil:.3f}"
                + (
                    f" (within {r.theil_within:.3f} + between {r.theil_between:.3f})"
                    if math.isfinite(float(r.theil_within))  # type: ignore[arg-type]
                    else ""
                )
            )
        if self.unreachable_population:
            lines.append(
                f"{self.unreachable_population:,.0f} people reach no hall and are left out of the distance indices."
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"FairnessResult({len(self.communities)} community rows)\n" + self.headline()

    def _repr_html_(self) -> str:
        table = self.indices.to_html(index=False, float_format="{:.3f}".format, na_rep="")
        return "<p>" + "<br>".join(escape(s) for s in self.headline().splitlines()) + "</p>" + table


def fairness(
    units: pd.DataFrame,
    *,
    covered_col: str = "status",
    distance_col: str = "distance_m",
    population_col: str = "population",
    community_col: str = "community",
    group_col: str | None = "group",
    overall_group: str | None = None,
) -> FairnessResult:
    """Gini, Palma and Theil of walking distance and of coverage, across residents, communities and groups.

    Parameters
    ----------
    units : pandas.DataFrame
        One row per demand unit, e.g. ``CoverageResult.units`` joined with a
        community name.
    covered_col : str, default "status"
        Boolean column, or a status column where ``"covered"`` means covered.
    distance_col : str, default "distance_m"
        Walking distance in metres to the nearest hall (inf if none).
    population_col : str, default "population"
        People per unit.
    community_col : str, default "community"
        Community (or any area) name per unit.
    group_col : str, optional
        Demand group (residents, elderly, ...); None for one group.
    overall_group : str, optional
        When the groups overlap (``elderly`` a subset of ``residents``,
        counted again), the group standing for everyone: the indices across
        residents and communities, and the ``all`` rows of the community
        table, use only its rows; the indices across groups use every group.

    Returns
    -------
    FairnessResult
    """
    every = _unit_frame(units, covered_col, population_col, community_col, group_col, distance_col)
    if overall_group is not None and overall_group not in set(every["group"]):
        raise CoverageInputError(
            f"overall_group={overall_group!r} is not a group of the units; groups: {sorted(set(every['group']))}."
        )
    frame = every if overall_group is None else every[every["group"] == overall_group]
    table = coverage_by_community(
        every, covered_col="covered", community_col="community", group_col="group" if group_col else None,
        overall_group=overall_group,
    )
    reach = np.isfinite(frame["distance_m"].to_numpy()) & (frame["population"].to_numpy() > 0)
    lost = float(frame.loc[~np.isfinite(frame["distance_m"]), "population"].sum())
    if lost:
        warn(
            f"{lost:,.0f} people reach no hall (infinite distance); they are left out of the walking-distance indices."
        )
    rows = []
    if reach.any():
        d = frame.loc[reach, "distance_m"].to_numpy()
        p = frame.loc[reach, "population"].to_numpy()
        dec = theil_decomposition(d, frame.loc[reach, "community"].to_numpy(), p)
        rows.append(_index_row("distance_m", "residents", d, p, dec.within, dec.between))
    for across, key in (("communities", "community"), ("groups", "group")):
        if across == "groups" and group_col is None:
            continue
        if across == "groups":
            frame = every
            reach = np.isfinite(frame["distance_m"].to_numpy()) & (frame["population"].to_numpy() > 0)
        per = frame.groupby(key)
        pop = per["population"].sum()
        covered = frame.loc[frame["covered"]].groupby(key)["population"].sum().reindex(pop.index, fill_value=0.0)
        keep = pop > 0
        if keep.any():
            rows.append(_index_row("coverage", across, (covered[keep] / pop[keep]).to_numpy(), pop[keep].to_numpy()))
        sub = frame.loc[reach]
        if len(sub):
            wd = (sub["distance_m"] * sub["population"]).groupby(sub[key]).sum()
            wp = sub.groupby(key)["population"].sum()
            rows.append(_index_row("distance_m", across, (wd / wp).to_numpy(), wp.to_numpy()))
    return FairnessResult(indices=pd.DataFrame(rows), communities=table, unreachable_population=lost)


#: Gini and Theil below this are rounding noise of equal values (e.g. two groups at the same places).
NOISE = 1e-12


def _index_row(
    measure: str, across: str, x: FloatArray, w: FloatArray, within: float = math.nan, between: float = math.nan
) -> dict[str, object]:
    g, t = gini(x, w), theil(x, w)
    return {
        "measure": measure,
        "across": across,
        "gini": 0.0 if g < NOISE else g,
        "palma": palma(x, w),
        "theil": 0.0 if t < NOISE else t,
        "theil_within": within,
        "theil_between": between,
        "units": int(x.size),
        "population": float(w.sum()),
    }
