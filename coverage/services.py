"""Several services in one run: each resident's walk to every kind of facility.

A district plans many facilities at once (党群服务中心 within 10 minutes,
社区健康服务中心 within 15, 幼儿园 within 5 ...). Residents are placed on the
network once (:func:`coverage.snapped.snap_demand`); each service is one
multi-source search from its sites (:func:`coverage._reach.reach_from_sites`).
The result has, per resident, the walking distance, status and number of
sites within reach for every service, and how many services they reach.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from . import _defaults as defaults
from ._errors import CoverageInputError
from ._frames import place_sites, site_frame
from ._reach import reach_from_sites
from ._validate import as_distance
from .assess import group_radii
from .network import WalkNetwork
from .snapped import SnappedDemand, snap_demand
from .tables import STATUSES, halls_table

__all__ = ["Service", "ServicesResult", "assess_services"]

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True, eq=False)
class Service:
    """One kind of facility, its sites and how far residents should walk to it.

    Attributes
    ----------
    key : str
        Short ASCII name used in column names (``health``, ``kindergarten``);
        use the facility key of a standard (e.g. ``community_health_centre``)
        to check it with :func:`coverage.life_circle.check_life_circle`.
    sites : GeoDataFrame
        Its sites (points with unique ids).
    name : str
        Display name (e.g. 社区健康服务中心); default ``key``.
    radius_m, minutes : float, optional
        The threshold, in metres or walking minutes (one of them; default 500 m).
    id_col, name_col : str
        Columns of ``sites`` holding ids and names.
    """

    key: str
    sites: gpd.GeoDataFrame
    name: str = ""
    radius_m: float | None = None
    minutes: float | None = None
    id_col: str = "site_id"
    name_col: str | None = "name"

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not _KEY.match(self.key):
            raise CoverageInputError(
                f"service key {self.key!r:.60}: use 1-40 lower-case ASCII letters, digits and _ starting with a "
                "letter (e.g. 'health'); the display name goes in name."
            )
        if self.radius_m is not None and self.minutes is not None:
            raise CoverageInputError(f"service {self.key!r}: give radius_m or minutes, not both.")

    @property
    def label(self) -> str:
        """The display name (the key when no name is given)."""
        return self.name or self.key


@dataclass(frozen=True, eq=False)
class ServicesResult:
    """Walking access of every resident to several services.

    Attributes
    ----------
    units : geopandas.GeoDataFrame
        One row per demand unit: the demand columns, then per service
        ``<key>_m`` (walking distance to the nearest site, inf if none),
        ``<key>_status`` (covered / uncovered / unreachable), ``<key>_within``
        (sites within reach), and ``services_met`` (how many services reach
        the unit) out of ``services_total``.
    summary : pandas.DataFrame
        One row per service and group: ``service``, ``name``, ``group``,
        ``threshold_m``, ``minutes``, ``sites``, ``sites_snapped``, ``total``,
        ``covered``, ``uncovered``, ``unreachable``, ``covered_share``.
    met : pandas.DataFrame
        Per group, the population reaching 0, 1, ... n services.
    sites : dict
        Per service key, its sites with ``population_served`` and
        ``population_within`` per group.
    services : tuple of Service
    demand : SnappedDemand
    """

    units: gpd.GeoDataFrame
    summary: pd.DataFrame
    met: pd.DataFrame
    sites: dict[str, pd.DataFrame]
    services: tuple[Service, ...]
    demand: SnappedDemand
    timings: dict[str, float] = field(default_factory=dict)

    def distances(self) -> pd.DataFrame:
        """One column of walking distances per service key, with population and group (for life-circle checks)."""
        cols = {s.key: self.units[f"{s.key}_m"].to_numpy() for s in self.services}
        return pd.DataFrame(
            {"demand_id": self.units["demand_id"], "group": self.units["group"],
             "population": self.units["population"], **cols}
        )

    def headline(self) -> str:
        """One line per service for the main group, and how many residents reach all of them."""
        main = "residents" if "residents" in set(self.summary["group"]) else str(self.summary["group"].iloc[0])
        lines = []
        for row in self.summary[self.summary["group"] == main].to_dict("records"):
            minutes = float(row["minutes"])
            within = f"{minutes:g} min" if np.isfinite(minutes) else f"{float(row['threshold_m']):g} m"
            lines.append(
                f"{row['name']}: {row['covered']:,.0f} of {row['total']:,.0f} ({row['covered_share']:.1%}) "
                f"within {within}"
            )
        met = self.met[self.met["group"] == main]
        n = len(self.services)
        all_met = float(met.loc[met["services_met"] == n, "population"].sum())
        total = float(met["population"].sum())
        share = all_met / total if total else 0.0
        lines.append(f"all {n} services: {all_met:,.0f} of {total:,.0f} ({share:.1%})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ServicesResult({len(self.services)} services, {len(self.units):,} units)\n" + self.headline()

    def _repr_html_(self) -> str:
        table = self.summary.to_html(
            index=False,
            formatters={
                "total": "{:,.0f}".format,
                "covered": "{:,.0f}".format,
                "uncovered": "{:,.0f}".format,
                "unreachable": "{:,.0f}".format,
                "covered_share": "{:.1%}".format,
                "threshold_m": "{:,.0f}".format,
            },
        )
        return f"<p><b>{html.escape(repr(self).splitlines()[0])}</b></p>{table}"


def assess_services(
    net: WalkNetwork,
    demand: gpd.GeoDataFrame | SnappedDemand,
    services: Sequence[Service],
    *,
    walk_speed_kmh: float = defaults.DEFAULT_WALK_SPEED_KMH,
    group_walk_speed_kmh: Mapping[str, float] | None = None,
    max_snap_m: float = defaults.DEFAULT_MAX_SNAP_M,
    demand_max_snap_m: float | None = None,
) -> ServicesResult:
    """Assess every resident's walk to several services, snapping residents once.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    demand : GeoDataFrame or SnappedDemand
        Demand units (see :func:`coverage.assess.assess_coverage`).
    services : sequence of Service
        The services; keys must be unique.
    walk_speed_kmh : float, default 4.5
        Walking speed of residents.
    group_walk_speed_kmh : mapping, optional
        Walking speed per group (the elderly default to 3.6 km/h), used for
        thresholds in minutes: the elderly's 10 minutes reach less far.
    max_snap_m : float, default 300
        Largest access walk from a site to its street.
    demand_max_snap_m : float, optional
        Largest access walk from a demand unit (default ``max_snap_m``).

    Returns
    -------
    ServicesResult

    Examples
    --------
    >>> res = assess_services(net, people, [Service("health", clinics, minutes=15),
    ...                                     Service("kindergarten", schools, minutes=5)])  # doctest: +SKIP
    >>> res.summary[["service", "group", "covered_share"]]  # doctest: +SKIP
    """
    import time

    if not services:
        raise CoverageInputError("give at least one Service.")
    keys = [s.key for s in services]
    if len(set(keys)) != len(keys):
        raise CoverageInputError(f"service keys must be unique; got {keys}.")
    max_snap_m = as_distance(max_snap_m, name="max_snap_m", maximum=5_000.0, example="300")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    placed = snap_demand(net, demand, max_snap_m=max_snap_m if demand_max_snap_m is None else demand_max_snap_m)
    units = placed.units.copy()
    timings["snap demand"] = time.perf_counter() - t
    groups = sorted(units["group"].unique().tolist())
    met = np.zeros(len(units), dtype=np.int64)
    rows = []
    site_tables: dict[str, pd.DataFrame] = {}
    for svc in services:
        t = time.perf_counter()
        radii, _speeds = group_radii(
            groups, radius_m=svc.radius_m, minutes=svc.minutes, walk_speed_kmh=walk_speed_kmh,
            group_walk_speed_kmh=group_walk_speed_kmh,
        )
        frame = site_frame(svc.sites, id_col=svc.id_col, name_col=svc.name_col, what=f"service {svc.key!r} sites")
        placed_sites = place_sites(net, frame, max_snap_m=max_snap_m, prefix=f"service {svc.key!r}: ")
        sites, snap = placed_sites.sites, placed_sites.snap
        threshold = units["group"].map(radii).to_numpy(dtype=np.float64)
        reach = reach_from_sites(net, snap, placed.snap, limit=float(threshold.max(initial=0.0)))
        keep = reach.pair_distance <= threshold[reach.pair_unit]
        status = np.where(
            ~placed.snap.ok | (~np.isfinite(reach.distance) & snap.ok.any()),
            "unreachable",
            np.where(reach.distance <= threshold, "covered", "uncovered"),
        )
        units[f"{svc.key}_m"] = reach.distance
        units[f"{svc.key}_status"] = pd.Categorical(status, categories=list(STATUSES))
        units[f"{svc.key}_within"] = np.bincount(reach.pair_unit[keep], minlength=len(units)).astype(np.int64)
        met += status == "covered"
        site_tables[svc.key] = halls_table(
            sites, units.assign(status=status), reach.nearest, reach.pair_site[keep], reach.pair_unit[keep]
        )
        rows.extend(_summary_rows(svc, units, status, radii, len(sites), int(snap.ok.sum())))
        timings[svc.key] = time.perf_counter() - t
    units["services_met"] = met
    units["services_total"] = len(services)
    met_table = (
        units.groupby(["group", "services_met"], observed=True)["population"].sum().reset_index()
        .sort_values(["group", "services_met"]).reset_index(drop=True)
    )
    return ServicesResult(
        units=units,
        summary=pd.DataFrame(rows),
        met=met_table,
        sites=site_tables,
        services=tuple(services),
        demand=placed,
        timings=timings,
    )


def _summary_rows(
    svc: Service, units: pd.DataFrame, status: np.ndarray, radii: dict[str, float], n_sites: int, n_snapped: int
) -> list[dict[str, object]]:
    rows = []
    pop = units["population"].to_numpy(dtype=np.float64)
    group = units["group"].to_numpy()
    for g in sorted(radii):
        sel = group == g
        total = float(pop[sel].sum())
        by = {s: float(pop[sel & (status == s)].sum()) for s in STATUSES}
        rows.append(
            {
                "service": svc.key,
                "name": svc.label,
                "group": g,
                "threshold_m": radii[g],
                "minutes": float(svc.minutes) if svc.minutes is not None else np.nan,
                "sites": n_sites,
                "sites_snapped": n_snapped,
                "total": total,
                **by,
                "covered_share": by["covered"] / total if total else 0.0,
            }
        )
    return rows
