"""Check communities and sub-districts against a life-circle standard (达标 / 未达标).

For each area (community, sub-district, and the whole study area), each facility
type of the standard gets the share of residents within its reach, and a
verdict against ``target_share``. Each tier then passes only if every required
facility type of the tier **and of every tier below it** passes (the nesting,
or non-inclusion, rule of GB 50180-2018: an upper tier's facility never stands
in for a lower tier's one, because each type is judged at its own radius).

The inputs are plain frames, so the check does not depend on how the
distances were computed: one row per resident (or demand unit) with its
population, community and sub-district names, an optional group, and per
facility type either the network distance in metres to the nearest facility
of that type (``inf`` when none is reachable) or a boolean "reached" flag
(e.g. computed at a group's own walking speed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from ._errors import CoverageInputError, warn
from ._validate import as_distance, as_share

# Adapters from the assessments, re-exported here (defined in life_circle_inputs).
from .life_circle_inputs import residents_from_assessments, residents_from_services
from .standards import Standard, load_standard

__all__ = [
    "FAIL",
    "NO_DATA",
    "PASS",
    "LifeCircleCheck",
    "check_life_circle",
    "residents_from_assessments",
    "residents_from_services",
]

PASS = "达标"
"""Status of a facility type or tier that meets the standard."""
FAIL = "未达标"
"""Status of a facility type or tier that does not."""
NO_DATA = "无数据"
"""Status where the input has no distances for a facility type (or the area has no residents)."""

OUTSIDE = "(outside the areas)"
"""Area name given to residents whose community or sub-district is missing."""

ALL_AREAS = "(all)"
"""Area name of the whole study area."""


@dataclass(frozen=True, eq=False)
class LifeCircleCheck:
    """The result of :func:`check_life_circle`.

    Attributes
    ----------
    facilities : pandas.DataFrame
        One row per level (``all``, ``subdistrict``, ``community``), area,
        group and facility type: ``tier`` (the facility's own tier),
        ``class``, ``threshold_m`` and ``threshold_from`` (``standard``,
        ``tier`` when the standard gives no radius and the tier's walking
        distance is used, ``user``, or ``flags``), ``population``,
        ``population_within``, ``share``, ``target_share``, ``status``
        (达标 / 未达标 / 无数据) and ``verified`` (the standard row was checked
        against the text).
    tiers : pandas.DataFrame
        One row per level, area, group and tier: counts of the facility types
        it must carry (its own plus every lower tier's), how many pass, fail
        or have no data, ``status``, and ``missing`` / ``no_data`` (names of
        the failing and unassessed types, 、-separated).
    standard : Standard
    target_share : float
    include_optional : bool
    """

    facilities: pd.DataFrame
    tiers: pd.DataFrame
    standard: Standard
    target_share: float
    include_optional: bool

    def headline(self) -> str:
        """One line per tier: how many communities (and sub-districts) meet it."""
        lines = [
            f"{self.standard.code} ({self.standard.title_en or self.standard.title_zh}) life-circle check, "
            f"a facility type passes when {self.target_share:.0%} of residents "
            f"reach it ({'required and optional' if self.include_optional else 'required'} types):"
        ]
        tiers = self.tiers[self.tiers["group"] == "all"]
        for tier in self.standard.tier_keys:
            rows = tiers[tiers["tier"] == tier]
            if rows.empty:
                continue
            name = self.standard.tier(tier)["name_zh"]
            parts = []
            for level in ("community", "subdistrict"):
                sel = rows[rows["level"] == level]
                if len(sel):
                    parts.append(f"{int((sel['status'] == PASS).sum())} of {len(sel)} {level} areas {PASS}")
            whole = rows[rows["level"] == "all"]
            if len(whole):
                status = whole["status"].iloc[0]
                missing = whole["missing"].iloc[0]
                parts.append(f"study area {status}" + (f" (missing: {missing})" if missing else ""))
            lines.append(f"  {tier} {name}: " + "; ".join(parts))
        no_data = sorted(set(self.facilities.loc[self.facilities["threshold_from"] == "no data", "facility"]))
        if no_data:
            lines.append(f"  no data for: {', '.join(no_data)} (tiers needing them cannot pass)")
        empty = self.tiers[(self.tiers["population"] <= 0) & (self.tiers["level"] != "all")]
        if len(empty):
            lines.append(f"  {empty['area'].nunique()} area(s) have no residents: {NO_DATA} there.")
        unverified = int((~self.facilities.drop_duplicates("facility")["verified"]).sum())
        if unverified:
            lines.append(f"  {unverified} facility type(s) rest on standard rows not verified against the text.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"LifeCircleCheck({len(self.tiers)} tier rows, {len(self.facilities)} facility rows)\n" + self.headline()

    def _repr_html_(self) -> str:
        cols = ["level", "area", "tier", "status", "passed", "required", "missing", "no_data"]
        table = self.tiers.loc[self.tiers["group"] == "all", cols].to_html(index=False, escape=True, na_rep="")
        head = "<br>".join(escape(line) for line in self.headline().splitlines())
        return f"<p>{head}</p>{table}"

    def checklist(self, level: str = "community", group: str = "all") -> pd.DataFrame:
        """Return a wide checklist: one row per area, one column per tier, 达标 / 未达标 / 无数据.

        Parameters
        ----------
        level : {"community", "subdistrict", "all"}
            Which areas to list.
        group : str, default "all"
            Whose checklist: everyone, or one demand group (e.g. ``elderly``).
        """
        rows = self._rows(self.tiers, level, group)
        wide = rows.pivot(index="area", columns="tier", values="status")
        return wide[[t for t in self.standard.tier_keys if t in wide.columns]].reset_index()

    def shares(self, level: str = "community", group: str = "all") -> pd.DataFrame:
        """Return the share of residents within reach: one row per area, one column per assessed facility type.

        Parameters
        ----------
        level : {"community", "subdistrict", "all"}
            Which areas to list.
        group : str, default "all"
            Everyone, or one demand group.
        """
        rows = self._rows(self.facilities, level, group)
        rows = rows[rows["threshold_from"] != "no data"]
        wide = rows.pivot(index="area", columns="facility", values="share")
        population = rows.groupby("area")["population"].first()
        keys = [k for k in self.standard.facilities["key"] if k in wide.columns]
        return wide[keys].assign(population=population).reset_index()[["area", "population", *keys]]

    def _rows(self, table: pd.DataFrame, level: str, group: str) -> pd.DataFrame:
        rows = table[(table["level"] == level) & (table["group"] == group)]
        if rows.empty:
            raise CoverageInputError(
                f"no rows at level {level!r} for group {group!r}; levels: {sorted(set(table['level']))}, "
                f"groups: {sorted(set(table['group']))}."
            )
        return rows


def check_life_circle(
    residents: pd.DataFrame,
    distances: Mapping[str, str] | None = None,
    *,
    standard: Standard | str = "GB 50180-2018",
    population_col: str = "population",
    community_col: str | None = "community",
    subdistrict_col: str | None = "subdistrict",
    group_col: str | None = None,
    overall_group: str | None = None,
    thresholds_m: Mapping[str, float] | None = None,
    tiers: Sequence[str] | None = None,
    target_share: float = 1.0,
    include_optional: bool = False,
) -> LifeCircleCheck:
    """Check every area against a life-circle standard.

    Parameters
    ----------
    residents : pandas.DataFrame
        One row per resident or demand unit: population, area names, optional
        group, and the distance (or reached-flag) columns named in ``distances``.
    distances : mapping, optional
        Facility key of the standard -> column of ``residents``. A numeric
        column holds the network distance in metres to the nearest facility of
        that type (``inf`` where none is reachable); a boolean column says
        whether the resident reaches one. Default: every column named like a
        facility key of the standard. Facility types without a column are
        reported as 无数据 (no data), and the tiers that need them cannot pass.
    standard : Standard or str, default "GB 50180-2018"
        A :class:`coverage.standards.Standard` or the code of a shipped one.
    population_col : str, default "population"
        Column of people per row.
    community_col, subdistrict_col : str or None
        Columns naming each resident's community and sub-district; None to
        skip that level. Missing names are tabulated as "(outside the areas)".
    group_col : str, optional
        Column of demand groups (e.g. residents, elderly): each group is also
        checked on its own.
    overall_group : str, optional
        The group that stands for everyone in the ``all`` rows, when the
        groups overlap (e.g. ``residents``, with ``elderly`` a subset of them
        counted again). Default: every row (the groups are disjoint).
    thresholds_m : mapping, optional
        Facility key -> walking distance in metres, overriding the standard's
        service radius (e.g. a local standard, or minutes at a group's speed).
    tiers : sequence of str, optional
        Tier keys to check (default: every tier of the standard).
    target_share : float, default 1.0
        Share of an area's residents that must reach a facility type for it to
        pass. The standards state service radii as maxima, so the default asks
        for everyone; a planner may set a lower target (say so in the report).
    include_optional : bool, default False
        Also require the optional (宜配建 / 品质提升类) types.

    Returns
    -------
    LifeCircleCheck

    Examples
    --------
    >>> import pandas as pd
    >>> residents = pd.DataFrame({
    ...     "population": [100.0, 50.0],
    ...     "community": ["A", "B"],
    ...     "kindergarten": [250.0, 420.0],
    ... })
    >>> check = check_life_circle(residents, {"kindergarten": "kindergarten"}, subdistrict_col=None, tiers=["5min"])
    >>> rows = check.facilities.query("facility == 'kindergarten' and level == 'community'")
    >>> list(zip(rows["area"], rows["share"], rows["status"]))
    [('A', 1.0, '达标'), ('B', 0.0, '未达标')]
    """
    std = load_standard(standard) if isinstance(standard, str) else standard
    target = as_share(target_share, name="target_share")
    checked_tiers = _tiers_to_check(std, tiers)
    wanted = _wanted_facilities(std, checked_tiers, include_optional)
    frame = _prepare(residents, population_col, community_col, subdistrict_col, group_col)
    columns = _distance_columns(residents, std, distances)
    reached, thresholds = _reach(residents, std, wanted, columns, thresholds_m or {})
    if overall_group is not None and overall_group not in set(frame["group"]):
        raise CoverageInputError(
            f"overall_group={overall_group!r} is not a group of the residents; groups: {sorted(set(frame['group']))}."
        )
    fac = _facility_table(frame, reached, wanted, thresholds, target, overall_group)
    tier_table = _tier_table(fac, std, checked_tiers, include_optional)
    return LifeCircleCheck(
        facilities=fac,
        tiers=tier_table,
        standard=std,
        target_share=target,
        include_optional=include_optional,
    )


def _tiers_to_check(std: Standard, tiers: Sequence[str] | None) -> list[str]:
    if tiers is None:
        return std.tier_keys
    if isinstance(tiers, str):
        tiers = [tiers]
    unknown = [t for t in tiers if t not in std.tier_keys]
    if unknown:
        raise CoverageInputError(f"tiers={list(tiers)}: {unknown} not in {std.code}; its tiers are {std.tier_keys}.")
    return [t for t in std.tier_keys if t in tiers]


def _wanted_facilities(std: Standard, tiers: list[str], include_optional: bool) -> pd.DataFrame:
    """Every facility type any checked tier must carry (nesting rule), once each."""
    levels = [int(std.tier(t)["level"]) for t in tiers]
    top = std.tiers.loc[std.tiers["level"] == max(levels), "key"].iloc[0]
    return std.facilities_for(str(top), include_optional=include_optional)


def _prepare(
    residents: pd.DataFrame,
    population_col: str,
    community_col: str | None,
    subdistrict_col: str | None,
    group_col: str | None,
) -> pd.DataFrame:
    if not isinstance(residents, pd.DataFrame):
        raise CoverageInputError("residents must be a pandas DataFrame with one row per resident or demand unit.")
    for col in (population_col, community_col, subdistrict_col, group_col):
        if col is not None and col not in residents.columns:
            raise CoverageInputError(
                f"residents has no column {col!r}; its columns are {list(residents.columns)[:20]}. "
                "Name the right column (population_col, community_col, subdistrict_col, group_col) or pass None."
            )
    pop = pd.to_numeric(residents[population_col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(pop) | (pop < 0))
    if bad.size:
        raise CoverageInputError(
            f"residents[{population_col!r}] must be finite numbers >= 0; "
            f"rows {list(residents.index[bad][:10])} are not."
        )
    out = pd.DataFrame({"population": pop}, index=residents.index)
    out["group"] = residents[group_col].astype(str).to_numpy() if group_col else "all"
    for level, col in (("community", community_col), ("subdistrict", subdistrict_col)):
        if col is None:
            continue
        names = residents[col]
        missing = names.isna().to_numpy()
        if missing.any():
            warn(
                f"{int(missing.sum())} row(s) ({pop[missing].sum():,.0f} people) have no {col!r}; "
                f"they are checked as {OUTSIDE!r}."
            )
        out[level] = np.where(missing, OUTSIDE, names.astype(str).to_numpy())
    return out


def _distance_columns(residents: pd.DataFrame, std: Standard, distances: Mapping[str, str] | None) -> dict[str, str]:
    keys = set(std.facilities["key"])
    if distances is None:
        return {k: k for k in std.facilities["key"] if k in residents.columns}
    unknown = [k for k in distances if k not in keys]
    if unknown:
        raise CoverageInputError(
            f"distances names facility types {unknown} that {std.code} does not have; its types are {sorted(keys)}."
        )
    absent = {k: c for k, c in distances.items() if c not in residents.columns}
    if absent:
        raise CoverageInputError(f"distances points at columns missing from residents: {absent}.")
    return dict(distances)


def _reach(
    residents: pd.DataFrame,
    std: Standard,
    wanted: pd.DataFrame,
    columns: dict[str, str],
    thresholds_m: Mapping[str, float],
) -> tuple[dict[str, np.ndarray], dict[str, tuple[float, str]]]:
    unknown = [k for k in thresholds_m if k not in set(std.facilities["key"])]
    if unknown:
        raise CoverageInputError(f"thresholds_m names facility types {unknown} that {std.code} does not have.")
    reached: dict[str, np.ndarray] = {}
    thresholds: dict[str, tuple[float, str]] = {}
    for row in wanted.itertuples():
        key = str(row.key)
        if key in thresholds_m:
            thresholds[key] = (as_distance(thresholds_m[key], name=f"thresholds_m[{key!r}]"), "user")
        elif math.isfinite(float(row.service_radius_m)):  # type: ignore[arg-type]
            thresholds[key] = (float(row.service_radius_m), "standard")  # type: ignore[arg-type]
        else:
            walk = float(std.tier(str(row.tier))["walk_m_max"])
            thresholds[key] = (walk, "tier") if math.isfinite(walk) and walk > 0 else (math.nan, "none")
        if key not in columns:
            continue
        col = residents[columns[key]]
        if pd.api.types.is_bool_dtype(col):
            reached[key] = col.to_numpy(dtype=bool)
            thresholds[key] = (math.nan, "flags")
            continue
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(np.isnan(values) | (values < 0))
        if bad.size:
            raise CoverageInputError(
                f"residents[{columns[key]!r}] (distance to {key}) must be metres >= 0, inf where none is "
                f"reachable; rows {list(residents.index[bad][:10])} are not."
            )
        limit, source = thresholds[key]
        if source == "none":
            raise CoverageInputError(
                f"{std.code} gives no walking distance for {key} ({row.name_zh}) or its tier {row.tier}: "
                f"give thresholds_m={{{key!r}: metres}} or a boolean reached column."
            )
        reached[key] = values <= limit
    return reached, thresholds


def _facility_table(
    frame: pd.DataFrame,
    reached: dict[str, np.ndarray],
    wanted: pd.DataFrame,
    thresholds: dict[str, tuple[float, str]],
    target: float,
    overall_group: str | None = None,
) -> pd.DataFrame:
    pop = frame["population"].to_numpy()
    levels = [("all", np.full(len(frame), ALL_AREAS, dtype=object))]
    levels += [(lvl, frame[lvl].to_numpy(dtype=object)) for lvl in ("subdistrict", "community") if lvl in frame]
    groups = ["all"] + (sorted(set(frame["group"])) if set(frame["group"]) != {"all"} else [])
    group_arr = frame["group"].to_numpy(dtype=object)
    rows = []
    for level, area_arr in levels:
        for group in groups:
            if group == "all":
                gmask = np.ones(len(frame), dtype=bool) if overall_group is None else group_arr == overall_group
            else:
                gmask = group_arr == group
            areas = sorted(set(area_arr[gmask]))
            codes = {a: i for i, a in enumerate(areas)}
            idx = np.array([codes.get(a, -1) for a in area_arr], dtype=np.int64)
            sel = gmask & (idx >= 0)
            total = np.bincount(idx[sel], weights=pop[sel], minlength=len(areas))
            for fac in wanted.rename(columns={"class": "cls"}).itertuples():
                key = str(fac.key)
                limit, source = thresholds[key]
                if key in reached:
                    hit = sel & reached[key]
                    within = np.bincount(idx[hit], weights=pop[hit], minlength=len(areas))
                else:
                    within = np.full(len(areas), np.nan)
                for i, area in enumerate(areas):
                    share = within[i] / total[i] if total[i] > 0 else math.nan
                    status = NO_DATA if math.isnan(share) else (PASS if share >= target - 1e-12 else FAIL)
                    rows.append(
                        {
                            "level": level,
                            "area": area,
                            "group": group,
                            "facility": key,
                            "name_zh": fac.name_zh,
                            "tier": fac.tier,
                            "class": fac.cls,
                            "threshold_m": limit,
                            "threshold_from": source if key in reached else "no data",
                            "population": total[i],
                            "population_within": within[i],
                            "share": share,
                            "target_share": target,
                            "status": status,
                            "verified": bool(fac.verified),
                        }
                    )
    return pd.DataFrame(rows)


def _tier_table(fac: pd.DataFrame, std: Standard, tiers: list[str], include_optional: bool) -> pd.DataFrame:
    rows = []
    needs = {t: std.facilities_for(t, include_optional=include_optional)["key"].tolist() for t in tiers}
    tier_names = {t: std.tier(t)["name_zh"] for t in tiers}
    for (level, area, group), sub in fac.groupby(["level", "area", "group"], sort=False):
        status_of = dict(zip(sub["facility"], sub["status"], strict=True))
        name_of = dict(zip(sub["facility"], sub["name_zh"], strict=True))
        population = float(sub["population"].iloc[0])
        for tier in tiers:
            need = needs[tier]
            failed = [k for k in need if status_of[k] == FAIL]
            no_data = [k for k in need if status_of[k] == NO_DATA]
            status = FAIL if failed else (NO_DATA if no_data else PASS)
            rows.append(
                {
                    "level": level,
                    "area": area,
                    "group": group,
                    "tier": tier,
                    "name_zh": tier_names[tier],
                    "population": population,
                    "required": len(need),
                    "passed": sum(status_of[k] == PASS for k in need),
                    "failed": len(failed),
                    "no_data_count": len(no_data),
                    "status": status,
                    "missing": "、".join(name_of[k] for k in failed),
                    "missing_keys": ";".join(failed),
                    "no_data": "、".join(name_of[k] for k in no_data),
                }
            )
    return pd.DataFrame(rows)
