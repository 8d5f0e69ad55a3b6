"""coverage-planner: who lives within a walk of a public service hall, and where to add more.

The pipeline, one module per stage:

- :mod:`coverage.osm`, :mod:`coverage.network`: load and prepare the walking network;
- :mod:`coverage.sites`: read halls (WGS-84, GCJ-02, BD-09) and snap them onto streets;
- :mod:`coverage.service_areas`: exact network service areas (isochrones);
- :mod:`coverage.demand`: residents as weighted points;
- :mod:`coverage.assess`, :mod:`coverage.gaps`: who is covered, and the gaps;
- :mod:`coverage.optimize`, :mod:`coverage.plan`: new sites that close the gaps;
- :mod:`coverage.maps`, :mod:`coverage.report`, :mod:`coverage.cli`: maps, reports, command line.

The distribution is called ``coverage-planner``; the import name is ``coverage``
(do not install coverage.py in the same environment).
"""

from __future__ import annotations

from ._data import find_data
from ._errors import CoverageError, CoverageInputError, CoverageInternalError, CoverageWarning, EstimateWarning
from .assess import CoverageResult, assess_coverage
from .network import WalkNetwork, load_network, network_from_graph
from .plan import SitePlan, plan_sites
from .service_areas import ServiceAreas, service_areas
from .sites import read_sites, snap_sites

__version__ = "0.1.0"

__all__ = [
    "CoverageError",
    "CoverageInputError",
    "CoverageInternalError",
    "CoverageResult",
    "CoverageWarning",
    "EstimateWarning",
    "ServiceAreas",
    "SitePlan",
    "WalkNetwork",
    "__version__",
    "assess_coverage",
    "find_data",
    "load_network",
    "network_from_graph",
    "plan_sites",
    "read_sites",
    "service_areas",
    "snap_sites",
]
