"""The life-circle step of a run: the standard's checklist, hall loads, backup, 2SFCA and fairness.

One function, :func:`assess_life_circle`, takes what a run already has (the
halls' :class:`~coverage.assess.CoverageResult` and the services'
:class:`~coverage.services.ServicesResult`, on the same residents) and adds:

- the life-circle check per community and sub-district
  (:func:`coverage.life_circle.check_life_circle`) for the services (and halls)
  mapped to facility types of a standard;
- for every facility with a capacity, residents allocated to sites within
  reach, exactly (:func:`coverage.capacity.allocate_capacity`), each site's
  load against its capacity and the residents within reach but over capacity,
  and 2SFCA scores (:func:`coverage.accessibility.two_step_fca`);
- backup coverage (residents within reach of at least two sites) and the
  fairness indices (Gini, Palma, Theil of walking distance and of coverage
  across residents, communities and groups) of every facility.

:func:`life_circle_after` adds the same for the halls after a plan (new sites
open), so before/after fairness sits next to before/after coverage.

Groups may overlap: with ``[demand] elderly_share`` the ``elderly`` rows are a
share of the ``residents`` counted again. The main group (``residents``)
then stands for everyone in the ``all`` rows, in the capacity allocation and in
the indices across residents and communities; the indices across groups and
the per-group rows use every group.
"""

from __future__ import annotations

import dataclasses
import html
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import CoverageInputError, CoverageWarning
from ._life_parts import (
    CAPACITY_COLUMNS,
    LOAD_COLUMNS,
    Facility,
    area_names,
    backup_rows,
    capacity_tables,
    facility_mapping,
    fairness_rows,
    find_facility,
    residents_frame,
)
from ._validate import as_count
from .assess import CoverageResult
from .life_circle import LifeCircleCheck, check_life_circle
from .life_circle_options import HALLS_KEY
from .network import WalkNetwork
from .services import ServicesResult
from .standards import Standard, load_standard

__all__ = ["HALLS_KEY", "LifeCircleResult", "assess_life_circle", "life_circle_after"]


@dataclass(frozen=True, eq=False)
class LifeCircleResult:
    """What the life-circle step adds to a run.

    Attributes
    ----------
    check : LifeCircleCheck or None
        Per community (``[communities]``), sub-district (``[areas]``) and the
        whole area, each tier and facility type of the standard: share of
        residents within reach, 达标 / 未达标 / 无数据; ``check.checklist(level)``
        gives the wide checklist. None without a standard or a mapped facility.
    check_after : LifeCircleCheck or None
        The same after the plan's new halls open (when the halls are mapped).
    facilities : pandas.DataFrame
        One row per facility of the step: ``facility`` (``halls`` or the
        service key), ``name``, ``standard_key`` (facility type it is judged
        as, empty if none), ``sites``, ``threshold_m`` (main group),
        ``capacity`` (bool).
    residents : pandas.DataFrame
        Per demand unit: ``demand_id``, ``group``, ``population``,
        ``community`` / ``subdistrict`` (when given), per facility its walking
        distance ``<facility>_m`` and ``<facility>_covered`` (at its own
        threshold and the group's speed), and for facilities with a capacity
        ``<facility>_served`` and ``<facility>_over_capacity`` (residents of
        the unit, main group only) and ``<facility>_2sfca`` (capacity per
        resident within reach).
    capacity : pandas.DataFrame
        Per facility with a capacity: ``population``, ``served``,
        ``over_capacity`` (within reach of a site, but every site within
        reach is full), ``out_of_reach``, ``served_share``, ``sites``,
        ``full_sites``, ``mean_walk_m`` of the served, ``mean_2sfca``
        (population-weighted), ``method``.
    loads : pandas.DataFrame
        Per facility with a capacity and site: ``site_id``, ``name``,
        ``capacity_given`` (as in the file), ``capacity_residents`` (over the visit rate),
        ``load`` (residents allocated), ``load_share``, ``population_within``
        (everyone within reach), ``unserved_within`` (residents within its
        reach left over capacity), ``full``, ``supply_ratio`` (2SFCA step 1).
    backup : pandas.DataFrame
        Per facility, ``when`` (``before`` / ``after``) and group:
        ``population``, ``covered`` (within reach of a site), ``backup``
        (within reach of at least ``min_sites``), their shares, ``min_sites``.
    fairness : pandas.DataFrame
        Per facility and ``when``: the rows of
        :attr:`coverage.fairness.FairnessResult.indices` (``measure``
        ``distance_m`` / ``coverage``, ``across`` ``residents`` /
        ``communities`` / ``groups``, ``gini``, ``palma``, ``theil``,
        ``theil_within``, ``theil_between``, ``units``, ``population``).
    communities : pandas.DataFrame
        Per facility, ``when``, community and group: population, covered,
        ``covered_share``, ``mean_distance_m``, ``unreachable``.
    main_group : str
        The group standing for everyone (``residents`` when present).
    area_level : str
        What the fairness tables call a community: ``community``,
        ``subdistrict`` (when only ``[areas]`` is given) or ``all``.
    options : dict
        The check's options (standard, tiers, target_share, ...), reused after the plan.
    """

    check: LifeCircleCheck | None
    check_after: LifeCircleCheck | None
    facilities: pd.DataFrame
    residents: pd.DataFrame
    capacity: pd.DataFrame
    loads: pd.DataFrame
    backup: pd.DataFrame
    fairness: pd.DataFrame
    communities: pd.DataFrame
    main_group: str
    area_level: str
    options: dict[str, Any] = field(default_factory=dict)

    def fairness_table(self, facility: str = HALLS_KEY) -> pd.DataFrame:
        """Before/after side by side for one facility: one row per measure and ``across``.

        Columns ``gini_before``, ``gini_after``, ``palma_before``, ... (``after``
        only when a plan ran).
        """
        rows = self.fairness[self.fairness["facility"] == facility]
        if rows.empty:
            raise CoverageInputError(
                f"no fairness rows for {facility!r}; facilities: {sorted(set(self.fairness['facility']))}."
            )
        wide = rows.pivot_table(index=["measure", "across"], columns="when", values=["gini", "palma", "theil"])
        wide.columns = ["_".join(map(str, col)) for col in wide.columns]
        order = [f"{m}_{w}" for m in ("gini", "palma", "theil") for w in ("before", "after") if f"{m}_{w}" in wide]
        return wide[order].reset_index()

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the step by output name (CSV, GeoPackage and workbook layers of a run).

        ``life_circle_checklist_<level>`` (one row per area, one column per
        tier: 达标 / 未达标 / 无数据; ``_<group>`` for groups other than the
        main one, e.g. the elderly at their own speed; ``_after`` when the plan
        changed it), ``life_circle_shares_<level>`` (share of residents within
        reach per area, group and facility type),
        ``life_circle_tiers`` and ``life_circle_facilities`` (long, with a
        ``when`` column), ``capacity_summary``, ``hall_loads``,
        ``backup_coverage``, ``fairness``, ``fairness_before_after`` (the
        halls) and ``coverage_by_community_and_service``.
        """
        out: dict[str, pd.DataFrame] = {}
        checks = [("before", self.check), ("after", self.check_after)]
        for when, check in checks:
            if check is None:
                continue
            others = sorted(set(check.tiers["group"]) - {"all", self.main_group})
            for level in ("subdistrict", "community"):
                if not (check.tiers["level"] == level).any():
                    continue
                suffix = "" if when == "before" else "_after"
                out[f"life_circle_checklist_{level}{suffix}"] = check.checklist(level)
                for group in others:
                    out[f"life_circle_checklist_{level}_{group}{suffix}"] = check.checklist(level, group)
                if when == "before":
                    shares = [check.shares(level, g).assign(group=g) for g in ["all", *others]]
                    out[f"life_circle_shares_{level}"] = pd.concat(shares, ignore_index=True)
        present = [(w, c) for w, c in checks if c is not None]
        if present:
            out["life_circle_tiers"] = pd.concat([c.tiers.assign(when=w) for w, c in present], ignore_index=True)
            out["life_circle_facilities"] = pd.concat(
                [c.facilities.assign(when=w, standard=c.standard.code) for w, c in present], ignore_index=True
            )
        if len(self.capacity):
            out["capacity_summary"] = self.capacity
            out["hall_loads"] = self.loads
        out["backup_coverage"] = self.backup
        out["fairness"] = self.fairness
        if (self.fairness["facility"] == HALLS_KEY).any():
            out["fairness_before_after"] = self.fairness_table(HALLS_KEY)
        return {**out, "coverage_by_community_and_service": self.communities}

    def headline(self) -> str:
        """Return a few lines: the checklist summary, capacity and backup of each facility, and fairness."""
        lines = []
        if self.check is not None:
            lines.append(self.check.headline())
        for r in self.capacity.itertuples():
            lines.append(
                f"{r.name}: {r.served:,.0f} of {r.population:,.0f} ({r.served_share:.1%}) served within capacity; "
                f"{r.over_capacity:,.0f} within reach but over capacity; {r.full_sites} of {r.sites} sites full."
            )
        main = self.backup[(self.backup["group"] == self.main_group)]
        for r in main.itertuples():
            lines.append(
                f"{r.name} ({r.when}): {r.backup:,.0f} ({r.backup_share:.1%}) reach at least {r.min_sites} sites."
            )
        gini = self.fairness[(self.fairness["measure"] == "coverage") & (self.fairness["across"] == "communities")]
        for r in gini.itertuples():
            lines.append(f"{r.name} ({r.when}): Gini of coverage across {self.area_level} areas {r.gini:.3f}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"LifeCircleResult({len(self.facilities)} facilities)\n" + self.headline()

    def _repr_html_(self) -> str:
        head = "<br>".join(html.escape(line) for line in self.headline().splitlines())
        parts = [f"<p>{head}</p>"]
        if self.check is not None:
            parts.append(self.check._repr_html_())
        if len(self.loads):
            parts.append(self.loads.to_html(index=False, float_format="{:,.1f}".format, escape=True))
        return "".join(parts)


def assess_life_circle(
    net: WalkNetwork,
    coverage: CoverageResult,
    services: ServicesResult | None = None,
    *,
    halls: gpd.GeoDataFrame | None = None,
    halls_name: str = "Halls",
    facilities: Mapping[str, str] | None = None,
    standard: Standard | str | None = "GB 50180-2018",
    tiers: list[str] | None = None,
    target_share: float = 1.0,
    include_optional: bool = False,
    thresholds_m: Mapping[str, float] | None = None,
    judge: str = "standard",
    capacity: Mapping[str, str] | None = None,
    visits_per_resident: Mapping[str, float] | None = None,
    backup_min_sites: int = 2,
) -> LifeCircleResult:
    """Check the life circle, allocate capacity, count backup and measure fairness, on one run's results.

    Parameters
    ----------
    net : WalkNetwork
        The network both assessments ran on.
    coverage : CoverageResult
        The halls' assessment; its ``units`` give the residents, their groups
        and their ``community`` / ``area`` names.
    services : ServicesResult, optional
        The services' assessment on the same residents.
    halls : GeoDataFrame, optional
        The halls given to ``assess_coverage`` (needed for their capacity).
    halls_name : str, default "Halls"
        Display name of the halls.
    facilities : mapping, optional
        Service key (or ``"halls"``) -> facility type of the standard; by
        default every service whose key is a facility type.
    standard : Standard, str or None, default "GB 50180-2018"
        The standard to check against; None for no check.
    tiers, target_share, include_optional, thresholds_m
        As in :func:`coverage.life_circle.check_life_circle`.
    judge : {"standard", "services"}, default "standard"
        Judge each walk at the standard's radius (or ``thresholds_m``), or at
        the facility's own threshold (minutes at each group's speed).
    capacity : mapping, optional
        Service key (or ``"halls"``) -> column of its sites holding the
        residents each site can serve (or visits a day, see below).
    visits_per_resident : mapping, optional
        Service key -> visits a day per resident, when its capacity column
        holds visits a day.
    backup_min_sites : int, default 2
        Sites within reach that make a resident backed up.

    Returns
    -------
    LifeCircleResult

    Examples
    --------
    >>> cov = assess_coverage(net, halls, people, minutes=10)  # doctest: +SKIP
    >>> svc = assess_services(net, cov.demand, [Service("kindergarten", schools, minutes=5)])  # doctest: +SKIP
    >>> life = assess_life_circle(net, cov, svc, halls=halls, capacity={"halls": "places"},
    ...                           facilities={"halls": "community_service_station"})  # doctest: +SKIP
    >>> life.check.checklist("community"), life.fairness_table("halls")  # doctest: +SKIP
    """
    if judge not in ("standard", "services"):
        raise CoverageInputError(f"judge={judge!r}: give 'standard' or 'services'.")
    min_sites = as_count(backup_min_sites, name="backup_min_sites", minimum=1)
    units = coverage.units
    groups = sorted(set(units["group"].astype(str)))
    main = "residents" if "residents" in groups else groups[0]
    facs = _facilities(coverage, services, halls, halls_name)
    std = load_standard(standard) if isinstance(standard, str) else standard
    mapping = facility_mapping(facs, std, facilities)
    residents = residents_frame(units, facs)
    area_level, names = area_names(units)
    capacity_rows, load_rows = [], []
    for key, column in (capacity or {}).items():
        fac = find_facility(facs, key)
        rate = (visits_per_resident or {}).get(key)
        summary, loads, extra = capacity_tables(net, coverage, fac, column, rate, main)
        capacity_rows.append(summary)
        load_rows.append(loads)
        for col, values in extra.items():
            residents[col] = values
    backup = pd.concat([backup_rows(f, units, "before", min_sites) for f in facs], ignore_index=True)
    fair, comm = zip(*(fairness_rows(f, units, names, main, "before") for f in facs), strict=True)
    options = {
        "standard": std, "tiers": tiers, "target_share": target_share, "include_optional": include_optional,
        "thresholds_m": dict(thresholds_m or {}), "judge": judge, "mapping": mapping, "min_sites": min_sites,
        "halls_name": halls_name, "group_thresholds": {f.key: f.threshold_m for f in facs},
    }
    check = _check(residents, options, main) if std is not None and mapping else None
    fac_table = pd.DataFrame(
        {
            "facility": [f.key for f in facs],
            "name": [f.name for f in facs],
            "standard_key": [mapping.get(f.key, "") for f in facs],
            "sites": [f.n_sites for f in facs],
            "threshold_m": [f.threshold_m.get(main, math.nan) for f in facs],
            "capacity": [f.key in (capacity or {}) for f in facs],
        }
    )
    return LifeCircleResult(
        check=check,
        check_after=None,
        facilities=fac_table,
        residents=residents,
        capacity=pd.DataFrame(capacity_rows, columns=CAPACITY_COLUMNS),
        loads=pd.concat(load_rows, ignore_index=True) if load_rows else pd.DataFrame(columns=LOAD_COLUMNS),
        backup=backup,
        fairness=pd.concat(fair, ignore_index=True),
        communities=pd.concat(comm, ignore_index=True),
        main_group=main,
        area_level=area_level,
        options=options,
    )


def life_circle_after(before: LifeCircleResult, after: CoverageResult) -> LifeCircleResult:
    """Add the halls' backup, fairness (and check, when mapped) after a plan's new sites open.

    Parameters
    ----------
    before : LifeCircleResult
        The step's result on the existing halls.
    after : CoverageResult
        The assessment with the new sites added (``SitePlan.after``), on the same residents.

    Returns
    -------
    LifeCircleResult
        ``before`` with ``when == "after"`` rows for the halls in ``backup``,
        ``fairness`` and ``communities``, and ``check_after``.
    """
    res = before.residents
    units = after.units
    if len(units) != len(res) or not (units["demand_id"].astype(str).to_numpy() == res["demand_id"]).all():
        raise CoverageInputError("the after assessment was run on other residents than the life-circle step.")
    units = units.copy()
    for level in ("community", "subdistrict"):
        if level in res.columns:
            units[level if level == "community" else "area"] = res[level].to_numpy()
    fac = _halls_facility(after, None, str(before.options["halls_name"]))
    _, names = area_names(units)
    fair, comm = fairness_rows(fac, units, names, before.main_group, "after")
    backup = backup_rows(fac, units, "after", int(before.options["min_sites"]))
    check_after = None
    mapping = before.options["mapping"]
    if before.check is not None and HALLS_KEY in mapping:
        frame = res.copy()
        frame[f"{HALLS_KEY}_m"] = fac.distance_m
        frame[f"{HALLS_KEY}_covered"] = fac.covered
        check_after = _check(frame, before.options, before.main_group)
    return dataclasses.replace(
        before,
        check_after=check_after,
        backup=pd.concat([before.backup, backup], ignore_index=True),
        fairness=pd.concat([before.fairness, fair], ignore_index=True),
        communities=pd.concat([before.communities, comm], ignore_index=True),
    )


def _halls_facility(cov: CoverageResult, halls: gpd.GeoDataFrame | None, name: str) -> Facility:
    units = cov.units
    return Facility(
        key=HALLS_KEY,
        name=name,
        n_sites=len(cov.halls),
        sites=halls,
        id_col="site_id",
        name_col="name",
        distance_m=units["distance_m"].to_numpy(dtype=np.float64),
        covered=(units["status"].astype(str) == "covered").to_numpy(),
        within=units["halls_within"].to_numpy(dtype=np.int64),
        threshold_m={str(g): float(r) for g, r in cov.radius_by_group.items()},
    )


def _facilities(
    cov: CoverageResult, services: ServicesResult | None, halls: gpd.GeoDataFrame | None, halls_name: str
) -> list[Facility]:
    facs = [_halls_facility(cov, halls, halls_name)]
    if services is None:
        return facs
    units = services.units
    if len(units) != len(cov.units) or not (
        units["demand_id"].astype(str).to_numpy() == cov.units["demand_id"].astype(str).to_numpy()
    ).all():
        raise CoverageInputError("the services were assessed on other residents than the halls; use the same demand.")
    for svc in services.services:
        rows = services.summary[services.summary["service"] == svc.key]
        facs.append(
            Facility(
                key=svc.key,
                name=svc.label,
                n_sites=len(svc.sites),
                sites=svc.sites,
                id_col=svc.id_col,
                name_col=svc.name_col,
                distance_m=units[f"{svc.key}_m"].to_numpy(dtype=np.float64),
                covered=(units[f"{svc.key}_status"].astype(str) == "covered").to_numpy(),
                within=units[f"{svc.key}_within"].to_numpy(dtype=np.int64),
                threshold_m={str(g): float(t) for g, t in zip(rows["group"], rows["threshold_m"], strict=True)},
            )
        )
    return facs


def _check(residents: pd.DataFrame, options: dict[str, Any], main: str) -> LifeCircleCheck:
    """Run the standard's check on the residents frame (columns ``<facility>_m`` / ``<facility>_covered``)."""
    mapping: dict[str, str] = options["mapping"]
    suffix = "_covered" if options["judge"] == "services" else "_m"
    distances = {fac: f"{key}{suffix}" for key, fac in mapping.items()}
    groups = set(residents["group"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # units outside every area: reported by the coverage step
        check = check_life_circle(
            residents,
            distances,
            standard=options["standard"],
            community_col="community" if "community" in residents.columns else None,
            subdistrict_col="subdistrict" if "subdistrict" in residents.columns else None,
            group_col="group",
            overall_group=main if len(groups) > 1 else None,
            thresholds_m=options["thresholds_m"] or None,
            tiers=options["tiers"],
            target_share=options["target_share"],
            include_optional=options["include_optional"],
        )
    if options["judge"] != "services":
        return check
    # Boolean flags carry no distance: write each facility's own threshold per group back into the table.
    thresholds = {mapping[key]: per_group for key, per_group in options["group_thresholds"].items() if key in mapping}
    fac = check.facilities.copy()
    group_of_row = np.where(fac["group"] == "all", main, fac["group"].astype(str))
    found = [
        thresholds[f].get(g, math.nan) if f in thresholds else math.nan
        for f, g in zip(fac["facility"].astype(str), group_of_row, strict=True)
    ]
    mask = (fac["threshold_from"] == "flags").to_numpy() & fac["facility"].isin(list(thresholds)).to_numpy()
    fac["threshold_m"] = np.where(mask, np.asarray(found, dtype=np.float64), fac["threshold_m"].to_numpy())
    fac["threshold_from"] = np.where(mask, "service", fac["threshold_from"].to_numpy())
    return dataclasses.replace(check, facilities=fac)
