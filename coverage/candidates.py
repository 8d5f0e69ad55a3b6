"""Candidate sites for new halls: positions along the streets, gap centres, a user file.

:func:`build_candidates` gathers them, removes those inside exclusion polygons,
snaps them onto the network once and returns a :class:`Candidates` result that
:func:`coverage.plan.plan_sites` takes as it is.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ._defaults import DEFAULT_CANDIDATE_SPACING_M, DEFAULT_MAX_SNAP_M
from ._errors import CoverageInputError, CoverageInternalError, warn
from ._frames import site_frame
from ._snap import Snap, geometry_index, snap_points
from ._validate import as_distance
from .network import WalkNetwork

__all__ = ["Candidates", "build_candidates", "network_candidates"]

#: Order of the ``source`` values in tables and counts.
SOURCES = ("network", "gap", "file")


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidate sites snapped onto the network, ready for the optimizer.

    Attributes
    ----------
    points : geopandas.GeoDataFrame
        One row per usable candidate, in the order the optimizer sees them:
        ``candidate_id`` (unique text), ``source`` (``"network"``, ``"gap"``
        or ``"file"``), ``name``, point geometry in the network's CRS.
    snap : coverage.sites.Snap
        Where each candidate sits on the network (every one is snapped).
    counts : dict
        How many were gathered per source, and how many were ``excluded``
        (inside the exclusion polygons) or ``off_network`` (farther than
        ``max_snap_m`` from every street; left out with a warning).
    max_snap_m : float
        The snapping limit used.

    Examples
    --------
    >>> import networkx as nx
    >>> from coverage.network import network_from_graph
    >>> G = nx.MultiDiGraph(crs="EPSG:32650")
    >>> G.add_node(1, x=0.0, y=0.0)
    >>> G.add_node(2, x=200.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=200.0, highway="footway")
    >>> cands = build_candidates(network_from_graph(G), spacing_m=50)
    >>> len(cands), cands.counts
    (4, {'network': 4})
    """

    points: gpd.GeoDataFrame
    snap: Snap
    counts: dict[str, int] = field(default_factory=dict)
    max_snap_m: float = DEFAULT_MAX_SNAP_M

    def __post_init__(self) -> None:
        if len(self.snap) != len(self.points):
            raise CoverageInternalError(f"Candidates: {len(self.points)} points but {len(self.snap)} snapped positions")
        if not bool(self.snap.ok.all()):
            raise CoverageInternalError("Candidates: every candidate must be snapped onto the network")
        if not self.points["candidate_id"].is_unique:
            raise CoverageInternalError("Candidates: candidate ids must be unique")

    def __len__(self) -> int:
        return len(self.points)

    @property
    def ids(self) -> list[str]:
        """The candidate ids, in order."""
        return self.points["candidate_id"].astype(str).tolist()

    def headline(self) -> str:
        """One sentence: how many candidates of which kind, and what was left out."""
        by = self.points["source"].value_counts()
        parts = [f"{int(by.get(s, 0)):,} {s}" for s in SOURCES if by.get(s, 0)]
        text = f"{len(self):,} candidate site(s) ({', '.join(parts) or 'none'})"
        left = []
        if self.counts.get("excluded"):
            left.append(f"{self.counts['excluded']:,} inside the exclusion zones")
        if self.counts.get("off_network"):
            left.append(f"{self.counts['off_network']:,} more than {self.max_snap_m:g} m from any street")
        if left:
            text += "; left out: " + ", ".join(left)
        return text + "."

    def __repr__(self) -> str:
        return f"Candidates({len(self):,})\n{self.headline()}"

    def _repr_html_(self) -> str:
        head = self.points.drop(columns="geometry").head(10).to_html(index=False)
        return f"<p><b>Candidates</b>: {html.escape(self.headline())}</p>{head}"


def network_candidates(net: WalkNetwork, *, spacing_m: float = DEFAULT_CANDIDATE_SPACING_M) -> gpd.GeoDataFrame:
    """Positions along every street, about ``spacing_m`` apart.

    Points are placed every ``spacing_m`` along each edge (and at each edge's
    middle when it is shorter). Around junctions, where the ends of several
    edges meet, positions closer than half the spacing to an already kept one
    are dropped: a greedy pass in edge order over the close pairs found by
    scipy's KD-tree, so the result is deterministic and no two kept
    positions are closer than ``spacing_m / 2``.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    spacing_m : float, default 50
        Distance between candidate positions along a street.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``n<k>``), ``source`` = ``"network"``, points in the
        network's CRS.
    """
    from scipy.spatial import cKDTree

    from ._geometry import sample_pieces

    if not (isinstance(spacing_m, int | float) and math.isfinite(spacing_m) and spacing_m > 0):
        raise CoverageInputError(f"spacing_m={spacing_m!r}: give a spacing > 0 m (50 m is usual).")
    length = net.edge_length_m
    n_per = np.maximum(1, np.floor(length / spacing_m)).astype(np.int64)
    edge = np.repeat(np.arange(net.n_edges), n_per)
    k = np.arange(edge.size) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    t = (k + 0.5) * (length[edge] / n_per[edge])
    xy, _ = sample_pieces(geometry_index(net), edge, t, t, step=1.0)
    xy = xy[::2]  # sample_pieces returns both ends of each zero-length piece
    pairs = cKDTree(xy).query_pairs(spacing_m / 2.0, output_type="ndarray")  # i < j, within the distance
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    starts = np.searchsorted(pairs[:, 0], np.arange(xy.shape[0] + 1))
    dropped = np.zeros(xy.shape[0], dtype=bool)
    for i in np.unique(pairs[:, 0]).tolist():  # only positions with a close neighbour
        if not dropped[i]:
            dropped[pairs[starts[i] : starts[i + 1], 1]] = True
    keep = np.flatnonzero(~dropped)
    return gpd.GeoDataFrame(
        {"candidate_id": [f"n{i}" for i in range(keep.size)], "source": "network"},
        geometry=gpd.points_from_xy(xy[keep, 0], xy[keep, 1]),
        crs=net.crs,
    )


def build_candidates(
    net: WalkNetwork,
    *,
    spacing_m: float | None = DEFAULT_CANDIDATE_SPACING_M,
    gaps: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    id_col: str = "site_id",
    name_col: str | None = "name",
    exclude: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> Candidates:
    """Gather candidate sites from the network, gap centres and a user file.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    spacing_m : float or None, default 50
        Spacing of network candidates along the streets (see
        :func:`network_candidates`); None for none.
    gaps : GeoDataFrame, optional
        Gap areas (``gap_id``, ``centroid_x``, ``centroid_y``, as in
        :attr:`coverage.assess.CoverageResult.gaps`) whose centres become
        candidates; "scattered" gaps are skipped.
    sites : GeoDataFrame, optional
        The user's possible sites (vacant public buildings, community rooms),
        points with a unique id in ``id_col``; their candidate ids are
        ``site-<id>``.
    id_col : str, default "site_id"
        Id column of ``sites``.
    name_col : str or None, default "name"
        Name column of ``sites`` (the id is used where absent).
    exclude : GeoDataFrame, optional
        Polygons where no site may go (parks, water, ruled-out sites).
    max_snap_m : float, default 300
        Largest walk from a candidate to its street; farther candidates are
        left out with a warning.

    Returns
    -------
    Candidates

    Raises
    ------
    CoverageInputError
        For missing or duplicate user site ids, a missing CRS, or when no
        candidate is left.
    """
    parts = []
    counts: dict[str, int] = {}
    if spacing_m:
        net_c = network_candidates(net, spacing_m=float(spacing_m))
        parts.append(net_c.assign(name=net_c["candidate_id"]))
        counts["network"] = len(net_c)
    if gaps is not None and len(gaps):
        g = gaps[~gaps["gap_id"].astype(str).str.contains("scattered")]
        ids = [f"gap-{i}" for i in g["gap_id"].astype(str)]
        gap_c = gpd.GeoDataFrame(
            {"candidate_id": ids, "source": "gap", "name": ids},
            geometry=gpd.points_from_xy(g["centroid_x"], g["centroid_y"]),
            crs=gaps.crs,
        ).to_crs(net.crs)
        parts.append(gap_c)
        counts["gap"] = len(gap_c)
    if sites is not None and len(sites):
        parts.append(_file_candidates(sites, net, id_col=id_col, name_col=name_col))
        counts["file"] = len(sites)
    if not parts:
        raise CoverageInputError("no candidate sites: enable network candidates (spacing_m), gaps or a sites file.")
    cands = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=net.crs)
    if exclude is not None and len(exclude):
        if exclude.crs is None:
            raise CoverageInputError("exclusion polygons have no CRS; set it with .set_crs(...).")
        zone = exclude.to_crs(net.crs).union_all()
        out = cands.intersects(zone).to_numpy()
        counts["excluded"] = int(out.sum())
        cands = cands[~out].reset_index(drop=True)
    if len(cands) == 0:
        raise CoverageInputError(
            "no candidate site is left after the exclusions; shrink the exclusion polygons or add candidates."
        )
    max_snap_m = as_distance(max_snap_m, name="max_snap_m", allow_zero=True, example="300")
    snap = snap_points(net, cands, max_snap_m=max_snap_m)
    off = np.flatnonzero(~snap.ok)
    if off.size:
        warn(
            f"{off.size} candidate site(s) are more than {max_snap_m:g} m from any street and cannot be chosen: "
            f"{cands['candidate_id'].astype(str).to_numpy()[off][:10].tolist()}"
            f"{' ...' if off.size > 10 else ''}.",
        )
        counts["off_network"] = int(off.size)
        keep = np.flatnonzero(snap.ok)
        cands = cands.iloc[keep].reset_index(drop=True)
        snap = _take(snap, keep)
    if len(cands) == 0:
        raise CoverageInputError("no candidate site lies near the network; check their coordinates and CRS.")
    return Candidates(points=cands, snap=snap, counts=counts, max_snap_m=max_snap_m)


def _file_candidates(
    sites: gpd.GeoDataFrame, net: WalkNetwork, *, id_col: str, name_col: str | None
) -> gpd.GeoDataFrame:
    if sites.crs is None:
        raise CoverageInputError("candidate sites have no CRS; set it with .set_crs(...).")
    frame = site_frame(sites, id_col=id_col, name_col=name_col, what="candidate sites")
    if (frame.geometry.geom_type != "Point").any():
        bad = frame.loc[(frame.geometry.geom_type != "Point").to_numpy(), "site_id"].tolist()[:10]
        raise CoverageInputError(f"candidate sites must be points; {bad} are not. Use their centroids.")
    return gpd.GeoDataFrame(
        {"candidate_id": ("site-" + frame["site_id"]).to_numpy(), "source": "file", "name": frame["name"].to_numpy()},
        geometry=frame.geometry.to_crs(net.crs).to_numpy(),
        crs=net.crs,
    )


def _take(snap: Snap, keep: np.ndarray) -> Snap:
    return Snap(
        edge=snap.edge[keep],
        offset_m=snap.offset_m[keep],
        access_m=snap.access_m[keep],
        x=snap.x[keep],
        y=snap.y[keep],
        snapped_x=snap.snapped_x[keep],
        snapped_y=snap.snapped_y[keep],
    )
