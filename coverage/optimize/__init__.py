"""Choose new sites: coverage location models on a sparse coverage matrix.

This is the numerical core of the site optimizer. It knows nothing about
geometry: demand units and candidate sites are rows and columns of a boolean
*coverage matrix* ``cover`` (``n_demand x n_candidates``, ``True`` where the
candidate lies within the walking radius of the demand unit), demand units
carry non-negative ``weights`` (residents), and ``already_covered`` marks the
units that the existing halls already serve. Existing halls are fixed open
and cost nothing; they never appear as columns.

Models
------
:func:`max_coverage`
    The maximal covering location problem (MCLP): ``k`` new sites that cover
    the most not-yet-covered weight, proven optimal (``method="exact"``) or
    certified by its LP bound (``method="greedy"``).
:func:`coverage_curve`
    :func:`max_coverage` for every ``k`` from 0 to ``k_max`` on one engine.
:func:`target_coverage`
    The fewest new sites that bring the covered share to a target.
:func:`solve_coverage`
    The three above at once, sharing all work (what the planner uses).
:func:`capacitated_coverage`
    Maximum coverage where every site serves at most its capacity (residents),
    existing halls included: exact MILP on the sparse pairs.
:func:`max_backup_coverage`
    Coverage, then coverage by a second site (backup), lexicographically.
:func:`max_min_coverage`
    The worst group's (community's) covered share, then total coverage.
:func:`full_coverage`
    The fewest new sites that cover every demand unit some candidate can reach
    (the location set covering problem, LSCP).
:func:`from_cost_matrix`, :func:`lscp_from_cost_matrix`
    The same models over a demand x candidate cost matrix, shaped like
    ``spopt.locate.MCLP.from_cost_matrix`` / ``LSCP.from_cost_matrix`` and using
    spopt's conventions, so that objectives compare directly.

How the maximum-coverage models are solved
------------------------------------------
1. Safe reductions shrink the problem without changing its optimum: demand
   units already covered or out of every candidate's reach drop out, units
   with identical candidate sets merge (weights add), and candidates whose
   covered set is contained in another candidate's drop out (the lowest index
   survives among identical ones).
2. The reduced coverage graph falls apart into independent *blocks*; the
   best split of ``k`` across blocks is found exactly by dynamic programming
   over the blocks' curves (:mod:`._blocks`).
3. Each block's curve is known between bounds that are tightened only where
   the split needs them (:mod:`._curve`): greedy below and the heaviest
   columns above; then the LP relaxation on one HiGHS model per block (only
   the right-hand side changes with ``k``), whose duals give a Lagrangian
   bound; then, only if the heuristics do not meet that bound, a MILP on the
   columns that reduced-cost fixing leaves.

Every reported upper bound is an LP, Lagrangian or MILP dual bound, or the
exact value. Work limits are deterministic (``max_nodes`` per MILP, simplex
iterations per LP), so the same input gives the same answer on every
machine; ``time_limit_s`` is only a safety net, and a result it stops is
marked not proven, with its gap and the note that it depends on machine
speed. Ties are broken by the lowest index.

Every model returns a :class:`SiteSelection` with the sites in *build order*
(each site the one that adds most given those before it), the weight each one
adds, and the certificate: an upper bound and the relative gap to it.

Examples
--------
>>> import numpy as np
>>> import scipy.sparse as sp
>>> cover = sp.csc_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool))
>>> sel = max_coverage(cover, [10.0, 20.0, 30.0, 5.0], 1)
>>> sel.sites.tolist(), sel.objective, sel.optimal
([1], 50.0, True)
>>> sel = max_coverage(cover, [10.0, 20.0, 30.0, 5.0], 2)
>>> sel.sites.tolist(), sel.marginal_weight.tolist()
([1, 0], [50.0, 10.0])
"""

from __future__ import annotations

from .backup import max_backup_coverage
from .capacitated import capacitated_coverage
from .combined import CoverageSolution, solve_coverage
from .costs import from_cost_matrix, lscp_from_cost_matrix
from .fewest import full_coverage, reachable_share, target_coverage
from .maximum import coverage_curve, max_coverage
from .maxmin import max_min_coverage
from .result import SiteSelection

__all__ = [
    "CoverageSolution",
    "SiteSelection",
    "capacitated_coverage",
    "coverage_curve",
    "from_cost_matrix",
    "full_coverage",
    "lscp_from_cost_matrix",
    "max_backup_coverage",
    "max_coverage",
    "max_min_coverage",
    "reachable_share",
    "solve_coverage",
    "target_coverage",
]
