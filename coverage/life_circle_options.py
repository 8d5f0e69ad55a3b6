"""The scenario's ``[life_circle]`` section and capacity keys, checked before any heavy work.

Called by :func:`coverage.scenario.validate` once paths are resolved: every key
of ``[life_circle]`` and the ``capacity_col`` / ``visits_per_resident`` keys of
``[halls]`` and ``[[services]]`` is either used or rejected with a message
naming the key and the fix. The facility mapping is completed here (a service
whose key is a facility key of the standard maps to it without being named),
so the pipeline reads one resolved ``facilities`` table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._errors import CoverageInputError
from .standards import Standard, load_standard, read_standard

__all__ = ["HALLS_KEY", "check_life_circle_options", "check_plan_objective", "scenario_standard"]

HALLS_KEY = "halls"
"""Name of the scenario's ``[halls]`` in ``[life_circle] facilities`` (and in the life-circle tables)."""


def scenario_standard(lc: dict[str, Any]) -> Standard:
    """Return the standard a ``[life_circle]`` section names (shipped code or local file)."""
    if lc["standard_file"] is not None:
        return read_standard(lc["standard_file"])
    return load_standard(lc["standard"])


def check_life_circle_options(
    path: Path,
    lc: dict[str, Any],
    halls: dict[str, Any],
    services: tuple[dict[str, Any], ...] | list[dict[str, Any]],
    *,
    section_given: bool,
    default_standard: str,
    plan_uses_capacity: bool = False,
) -> None:
    """Check ``[life_circle]`` and the capacity keys; set ``enabled`` and the resolved ``facilities``.

    Parameters
    ----------
    path : Path
        The scenario file (for messages).
    lc : dict
        The ``[life_circle]`` values (defaults filled in); changed in place.
    halls : dict
        The ``[halls]`` values.
    services : sequence of dict
        The ``[[services]]`` entries.
    section_given : bool
        Whether the file has a ``[life_circle]`` section.
    default_standard : str
        The schema's default for ``standard`` (to tell it from a given one).
    plan_uses_capacity : bool, default False
        ``[plan] objective = "capacitated"`` uses the halls' capacity too.
    """
    _check_capacity_keys(path, halls, services)
    with_capacity = halls["capacity_col"] is not None or any(s["capacity_col"] is not None for s in services)
    if lc["enabled"] is None:
        lc["enabled"] = section_given or with_capacity
    if not lc["enabled"]:
        if with_capacity and not plan_uses_capacity:
            raise CoverageInputError(
                f"{path}: capacity_col is given but [life_circle] enabled = false turns off the step that uses it; "
                "remove one of them."
            )
        return
    if lc["standard_file"] is not None and lc["standard"] != default_standard:
        raise CoverageInputError(f"{path}: [life_circle] give standard or standard_file, not both.")
    try:
        std = scenario_standard(lc)
    except CoverageInputError as exc:
        raise CoverageInputError(f"{path}: [life_circle] {exc}") from exc
    facility_keys = set(std.facilities["key"])
    if lc["tiers"] is not None:
        unknown = [t for t in lc["tiers"] if t not in std.tier_keys]
        if unknown:
            raise CoverageInputError(
                f"{path}: [life_circle] tiers {unknown} are not tiers of {std.code}; its tiers are {std.tier_keys}."
            )
    lc["facilities"] = _facility_map(path, lc, halls, services, std, facility_keys)
    if section_given and not lc["facilities"]:
        raise CoverageInputError(
            f"{path}: [life_circle] no [[services]] key is a facility type of {std.code} and facilities maps none; "
            f"map them, e.g. facilities = {{ health = \"community_health_centre\" }} (types: "
            f"{', '.join(sorted(facility_keys))})."
        )
    if lc["thresholds_m"] is not None:
        unknown = [k for k in lc["thresholds_m"] if k not in facility_keys]
        if unknown:
            raise CoverageInputError(
                f"{path}: [life_circle] thresholds_m names {unknown}, not facility types of {std.code}."
            )
        if lc["judge"] == "services":
            raise CoverageInputError(
                f"{path}: [life_circle] thresholds_m has no effect with judge = 'services' (each service's own "
                "radius_m/minutes is used); remove one."
            )
    if lc["judge"] == "services":
        for i, svc in enumerate(services, start=1):
            if svc["key"] in lc["facilities"] and svc["radius_m"] is None and svc["minutes"] is None:
                raise CoverageInputError(
                    f"{path}: [[services]] #{i} ({svc['key']}) has no radius_m or minutes, which "
                    "[life_circle] judge = 'services' uses; give one."
                )


def _check_capacity_keys(
    path: Path, halls: dict[str, Any], services: tuple[dict[str, Any], ...] | list[dict[str, Any]]
) -> None:
    entries = [("[halls]", halls)] + [(f"[[services]] #{i}", s) for i, s in enumerate(services, start=1)]
    for where, cfg in entries:
        if cfg["visits_per_resident"] is not None and cfg["capacity_col"] is None:
            raise CoverageInputError(
                f"{path}: {where} visits_per_resident needs capacity_col (the column of visits a day per site)."
            )
    if halls["file"] is None and halls["capacity_col"] is not None:
        raise CoverageInputError(f"{path}: [halls] capacity_col needs file = '...' (there is no halls file).")


def _facility_map(
    path: Path,
    lc: dict[str, Any],
    halls: dict[str, Any],
    services: tuple[dict[str, Any], ...] | list[dict[str, Any]],
    std: Standard,
    facility_keys: set[str],
) -> dict[str, str]:
    """Service key (or ``halls``) -> facility key: the given mapping plus services named like a facility type."""
    service_keys = [s["key"] for s in services]
    given = dict(lc["facilities"] or {})
    for name, fac in given.items():
        if name == HALLS_KEY:
            if halls["file"] is None:
                raise CoverageInputError(f"{path}: [life_circle] facilities.halls: there is no [halls] file.")
        elif name not in service_keys:
            raise CoverageInputError(
                f"{path}: [life_circle] facilities.{name}: no [[services]] has key {name!r}; "
                f"service keys are {service_keys} (and 'halls' for the [halls])."
            )
        if fac not in facility_keys:
            raise CoverageInputError(
                f"{path}: [life_circle] facilities.{name} = {fac!r} is not a facility type of {std.code}; "
                f"types: {', '.join(sorted(facility_keys))}."
            )
    mapping = dict(given)
    for key in service_keys:
        if key not in mapping and key in facility_keys and key not in mapping.values():
            mapping[key] = key
    targets = list(mapping.values())
    twice = sorted({f for f in targets if targets.count(f) > 1})
    if twice:
        raise CoverageInputError(
            f"{path}: [life_circle] facilities: {twice} is mapped from more than one service; map each facility "
            "type from one service (merge their sites into one file)."
        )
    return mapping


def check_plan_objective(
    path: Path, plan: dict[str, Any], halls: dict[str, Any], communities: dict[str, Any], areas: dict[str, Any]
) -> None:
    """Check ``[plan] objective`` and the keys it needs (``new_site_capacity``, capacities, areas)."""
    objective = plan["objective"]
    if plan["new_site_capacity"] is not None and objective != "capacitated":
        raise CoverageInputError(
            f"{path}: [plan] new_site_capacity is for objective = 'capacitated' (objective is {objective!r}); "
            "remove it or set the objective."
        )
    if objective == "capacitated":
        if plan["new_site_capacity"] is None:
            raise CoverageInputError(
                f"{path}: [plan] objective = 'capacitated' needs new_site_capacity (residents each new site serves)."
            )
        if halls["file"] is not None and halls["capacity_col"] is None:
            raise CoverageInputError(
                f"{path}: [plan] objective = 'capacitated' needs [halls] capacity_col (what each hall can serve)."
            )
    if objective == "maxmin" and communities["file"] is None and areas["file"] is None:
        raise CoverageInputError(
            f"{path}: [plan] objective = 'maxmin' raises the worst community's coverage: give [communities] "
            "(or [areas]) file."
        )
