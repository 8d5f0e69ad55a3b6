"""Numerical core of the assessment: how far each demand unit is from a set of sites.

Sites are inserted into the network as nodes (:func:`coverage._augment.augment`),
demand units are placed on the resulting segments, one multi-source search
gives each unit its nearest site, and bounded searches list every (site, unit)
pair within a limit. Arrays in, arrays out: the frame layer
(:mod:`coverage.assess`, :mod:`coverage.services`) builds tables from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._augment import augment, locate
from ._search import nearest_source, within_located
from ._snap import Snap
from ._types import FloatArray, IntArray
from .network import WalkNetwork

__all__ = ["Reach", "reach_from_sites"]


@dataclass(frozen=True, eq=False)
class Reach:
    """Network distances from demand units to sites.

    Attributes
    ----------
    distance : numpy.ndarray
        Per unit, the walking distance to its nearest site (access walks at
        both ends included); inf when no site can be reached.
    nearest : numpy.ndarray
        Per unit, the index of that site (-1 if none).
    pair_site, pair_unit : numpy.ndarray
        Every (site, unit) pair within ``limit``, sorted by site then unit.
    pair_distance : numpy.ndarray
        The walking distance of each pair.
    limit : float
        The largest distance searched for pairs.
    """

    distance: FloatArray
    nearest: IntArray
    pair_site: IntArray
    pair_unit: IntArray
    pair_distance: FloatArray
    limit: float


def reach_from_sites(net: WalkNetwork, sites: Snap, units: Snap, *, limit: float) -> Reach:
    """Nearest site of every unit, and every (site, unit) pair within ``limit``.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    sites, units : Snap
        Where the sites and the demand units sit on the network (unsnapped
        ones have ``edge == -1`` and are never reached).
    limit : float
        Largest walking distance for which pairs are listed (the threshold).

    Returns
    -------
    Reach

    Notes
    -----
    Exact, same-edge case included: a unit on the segment between two
    positions is reached at ``access + min(d[a] + t - t0, d[b] + t1 - t)``,
    and the sites' own splits of their edges make every segment free of
    inner nodes.
    """
    aug = augment(net, sites.edge, sites.offset_m, sites.access_m)
    loc = locate(aug, units.edge, units.offset_m, units.access_m)
    ok_s = np.flatnonzero(aug.point_node >= 0)
    n_u = len(units)
    if ok_s.size == 0 or not loc.ok.any():
        e = np.empty(0, np.int64)
        return Reach(np.full(n_u, np.inf), np.full(n_u, -1, np.int64), e, e, np.empty(0), float(limit))
    node_dist, node_src = nearest_source(aug, aug.point_node[ok_s])
    dist, src = loc.nearest_of(node_dist, node_src)
    nearest = np.where(src >= 0, ok_s[np.maximum(src, 0)], -1).astype(np.int64)
    s_pos, unit_pos, pair_d = within_located(aug, aug.point_node[ok_s], loc, limit=limit)
    return Reach(
        distance=dist,
        nearest=nearest,
        pair_site=ok_s[s_pos],
        pair_unit=unit_pos,
        pair_distance=pair_d,
        limit=float(limit),
    )
