"""coverage-planner: who lives within a walk of a public service hall, and where to add more.

The pipeline, one module per stage:

- :mod:`coverage.osm`, :mod:`coverage.network`: load and prepare the walking network;
- :mod:`coverage.sites`: read halls (WGS-84, GCJ-02, BD-09) and snap them onto streets;
- :mod:`coverage.service_areas`: exact network service areas (isochrones);
- :mod:`coverage.demand`, :mod:`coverage.snapped`: residents as weighted points, placed on the network once;
- :mod:`coverage.assess`, :mod:`coverage.gaps`, :mod:`coverage.tables`: who is covered, the gaps, the tables;
- :mod:`coverage.services`: several services (facility types) in one run;
- :mod:`coverage.life_circle`, :mod:`coverage.fairness`, :mod:`coverage.accessibility`,
  :mod:`coverage.capacity`, :mod:`coverage.backup`: standards, fairness, 2SFCA, capacity, backup coverage;
- :mod:`coverage.candidates`, :mod:`coverage.optimize`, :mod:`coverage.plan`: new sites that close the gaps;
- :mod:`coverage.maps`, :mod:`coverage.report`, :mod:`coverage.cli`: maps, reports, command line;
- :mod:`coverage.scenario`, :mod:`coverage.pipeline`: one TOML file describes a whole run.

The distribution is called ``coverage-planner``; the import name is ``coverage``
(do not install coverage.py in the same environment).
"""

from __future__ import annotations

from ._data import find_data
from ._errors import CoverageError, CoverageInputError, CoverageInternalError, CoverageWarning, EstimateWarning
from .assess import CoverageResult, assess_coverage
from .candidates import Candidates, build_candidates
from .demand import read_demand
from .gaps import Gaps, find_gaps
from .life_circle import LifeCircleCheck, check_life_circle
from .maps import coverage_map, save_map
from .network import WalkNetwork, load_network, network_from_graph
from .plan import SitePlan, plan_sites
from .service_areas import ServiceAreas, service_areas
from .services import Service, ServicesResult, assess_services
from .sites import read_sites, snap_sites
from .snapped import SnappedDemand, snap_demand

__version__ = "0.1.0"

__all__ = [
    "Candidates",
    "CoverageError",
    "CoverageInputError",
    "CoverageInternalError",
    "CoverageResult",
    "CoverageWarning",
    "EstimateWarning",
    "Gaps",
    "LifeCircleCheck",
    "Service",
    "ServiceAreas",
    "ServicesResult",
    "SitePlan",
    "SnappedDemand",
    "WalkNetwork",
    "__version__",
    "assess_coverage",
    "assess_services",
    "build_candidates",
    "check_life_circle",
    "coverage_map",
    "find_data",
    "find_gaps",
    "load_network",
    "network_from_graph",
    "plan_sites",
    "read_demand",
    "read_sites",
    "save_map",
    "service_areas",
    "snap_demand",
    "snap_sites",
]
