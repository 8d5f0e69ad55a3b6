"""Life-circle standards as data: tiers, facility types, and where each figure comes from.

Two standards ship with the package (TOML files beside this module):

- ``"GB 50180-2018"`` 《城市居住区规划设计标准》: the 15-, 10- and 5-minute
  life circles and the residential block (居住街坊), with their facility types;
- ``"TD/T 1062-2021"`` 《社区生活圈规划技术指南》: the 15-minute level
  (sub-district) and the 5-10-minute level (community).

Every tier and facility row carries a ``verified`` flag: ``True`` only where
the figures were checked against the standard's text (or a faithful
reproduction), with the source named in the file. Unverified rows say where
their figures come from. A planner can load a local standard of the same shape
with :func:`read_standard`.

Examples
--------
>>> std = load_standard("GB 50180-2018")
>>> std.tier_keys
['15min', '10min', '5min', 'block']
>>> sorted(std.facilities_for("5min")["tier"].unique())
['5min', 'block']
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import CoverageInputError

__all__ = ["CLASSES", "Standard", "list_standards", "load_standard", "read_standard"]

#: Facility classes: ``required`` (应配建 / 基础保障类) and ``optional`` (宜配建 / 品质提升类).
CLASSES = ("required", "optional")

_SHIPPED = {"GB 50180-2018": "gb50180_2018.toml", "TD/T 1062-2021": "tdt1062_2021.toml"}

_TIER_NUMBERS = ("walk_m_min", "walk_m_max", "population_min", "population_max", "households_min", "households_max")
_TIER_COLUMNS = [
    "key",
    "name_zh",
    "name_en",
    "level",
    "minutes",
    *_TIER_NUMBERS,
    "clause",
    "verified",
    "sources",
    "note",
]
_FACILITY_COLUMNS = [
    "key",
    "name_zh",
    "name_en",
    "tier",
    "class",
    "service_radius_m",
    "per_1000",
    "per_1000_unit",
    "clause",
    "verified",
    "sources",
    "note",
]


@dataclass(frozen=True, eq=False)
class Standard:
    """A life-circle standard: its tiers and facility types, with their sources.

    Attributes
    ----------
    code : str
        Standard number, e.g. ``"GB 50180-2018"``.
    title_zh, title_en : str
        Titles.
    effective : str
        Date the standard came into force.
    tiers : pandas.DataFrame
        One row per tier, largest first: ``key``, names, ``level`` (larger is
        the bigger circle), ``minutes``, ``walk_m_min``/``walk_m_max``,
        population and household ranges, ``clause``, ``verified``,
        ``sources`` (semicolon-separated source ids), ``note``.
    facilities : pandas.DataFrame
        One row per facility type: ``key``, names, ``tier``, ``class``
        (``required``/``optional``), ``service_radius_m`` (NaN where none is
        given), ``per_1000`` and its unit (NaN where none), ``clause``,
        ``verified``, ``sources``, ``note``.
    sources : pandas.DataFrame
        ``id``, ``title``, ``url``, ``confirms``: what was read and what it confirms.
    nesting : str
        The nesting rule in words.
    nesting_verified : bool
        Whether the nesting rule was checked against the text.
    class_labels : dict
        The standard's own words for ``required`` and ``optional``.
    path : str
        File the standard was read from.
    """

    code: str
    title_zh: str
    title_en: str
    effective: str
    tiers: pd.DataFrame
    facilities: pd.DataFrame
    sources: pd.DataFrame
    nesting: str
    nesting_verified: bool
    class_labels: dict[str, str]
    path: str

    @property
    def tier_keys(self) -> list[str]:
        """Tier keys from the largest circle to the smallest."""
        return [str(k) for k in self.tiers["key"]]

    def tier(self, key: str) -> pd.Series:
        """Return the row of one tier."""
        rows = self.tiers[self.tiers["key"] == key]
        if rows.empty:
            raise CoverageInputError(f"{self.code} has no tier {key!r}; its tiers are {self.tier_keys}.")
        return rows.iloc[0]

    def facilities_for(self, tier: str, *, include_optional: bool = True) -> pd.DataFrame:
        """Facility types a tier must carry: its own plus those of every lower tier (nesting rule).

        Parameters
        ----------
        tier : str
            Tier key, e.g. ``"15min"``.
        include_optional : bool, default True
            Keep ``optional`` (宜配建 / 品质提升类) types too.

        Returns
        -------
        pandas.DataFrame
            Rows of :attr:`facilities`, largest tier first.
        """
        level = int(self.tier(tier)["level"])
        levels = dict(zip(self.tiers["key"], self.tiers["level"], strict=True))
        own = self.facilities["tier"].map(levels)
        mask = own <= level
        if not include_optional:
            mask &= self.facilities["class"] == "required"
        order = (-own[mask]).argsort(kind="stable")
        return self.facilities[mask].iloc[order].reset_index(drop=True)

    def headline(self) -> str:
        """One line: the standard and how many of its rows are verified."""
        return (
            f"{self.code} {self.title_zh}: {len(self.tiers)} tiers ({int(self.tiers['verified'].sum())} verified), "
            f"{len(self.facilities)} facility types ({int(self.facilities['verified'].sum())} verified); "
            f"nesting rule {'verified' if self.nesting_verified else 'not verified'}."
        )

    def __repr__(self) -> str:
        return f"Standard({self.headline()})"

    def _repr_html_(self) -> str:
        from html import escape

        tiers = self.tiers.drop(columns=["note"]).to_html(index=False, na_rep="", escape=True)
        facilities = self.facilities[["key", "name_zh", "tier", "class", "service_radius_m", "verified"]].to_html(
            index=False, na_rep="", escape=True
        )
        return f"<p><b>{escape(self.headline())}</b></p>{tiers}{facilities}"


def list_standards() -> list[str]:
    """Codes of the standards shipped with the package.

    Examples
    --------
    >>> list_standards()
    ['GB 50180-2018', 'TD/T 1062-2021']
    """
    return list(_SHIPPED)


def load_standard(code: str = "GB 50180-2018") -> Standard:
    """Load a standard shipped with the package.

    Parameters
    ----------
    code : str, default "GB 50180-2018"
        One of :func:`list_standards` (spaces, case and ``/`` are ignored,
        so ``"gb50180-2018"`` works too).

    Returns
    -------
    Standard
    """
    wanted = _normalise(code)
    for known, filename in _SHIPPED.items():
        if _normalise(known) == wanted:
            ref = resources.files(__name__).joinpath(filename)
            with resources.as_file(ref) as path:
                return read_standard(path)
    raise CoverageInputError(
        f"standard {code!r} is not shipped; choose one of {list_standards()} or read your own file "
        "with coverage.standards.read_standard(path)."
    )


def read_standard(path: str | os.PathLike[str]) -> Standard:
    """Read a standard from a TOML file shaped like the shipped ones.

    Parameters
    ----------
    path : path-like
        The TOML file (see ``coverage/standards/gb50180_2018.toml`` for the shape).

    Returns
    -------
    Standard
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CoverageInputError(f"{path}: cannot read the standard ({exc}); give a UTF-8 TOML file.") from exc
    meta = _table(raw, "standard", path)
    sources = _sources(raw.get("sources", []), path)
    tiers = _tiers(raw.get("tiers", []), path, set(sources["id"]))
    facilities = _facilities(raw.get("facilities", []), path, set(tiers["key"]), set(sources["id"]))
    nesting_sources = list(meta.get("nesting_sources", []))
    nesting_verified = bool(meta.get("nesting_verified", False))
    if nesting_verified and not (set(nesting_sources) and set(nesting_sources) <= set(sources["id"])):
        raise CoverageInputError(
            f"{path}: [standard] nesting_verified = true needs nesting_sources naming [[sources]]."
        )
    labels = meta.get("class_labels", {})
    return Standard(
        code=_text(meta, "code", path, "[standard]"),
        title_zh=str(meta.get("title_zh", "")),
        title_en=str(meta.get("title_en", "")),
        effective=str(meta.get("effective", "")),
        tiers=tiers,
        facilities=facilities,
        sources=sources,
        nesting=str(meta.get("nesting", "")),
        nesting_verified=nesting_verified,
        class_labels={c: str(labels.get(c, c)) for c in CLASSES},
        path=str(path),
    )


def _normalise(code: str) -> str:
    return "".join(ch for ch in str(code).lower() if ch.isalnum() or ch == "-")


def _table(raw: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise CoverageInputError(f"{path}: missing [{key}] table (code, title_zh, effective, ...).")
    return value


def _text(row: dict[str, Any], key: str, path: Path, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CoverageInputError(f"{path}: {where} needs a text `{key}`.")
    return value


def _number(row: dict[str, Any], key: str, path: Path, where: str) -> float:
    value = row.get(key)
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise CoverageInputError(f"{path}: {where} `{key}` = {value!r}: give a number >= 0 or leave it out.")
    return float(value)


def _provenance(row: dict[str, Any], path: Path, where: str, known: set[str]) -> tuple[bool, str, str]:
    verified = row.get("verified")
    if not isinstance(verified, bool):
        raise CoverageInputError(f"{path}: {where} needs `verified = true` or `false`.")
    ids = row.get("sources", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise CoverageInputError(f"{path}: {where} `sources` must be a list of source ids.")
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise CoverageInputError(f"{path}: {where} names unknown sources {unknown}; add them as [[sources]].")
    note = str(row.get("note", ""))
    if verified and not ids:
        raise CoverageInputError(
            f"{path}: {where} is verified = true but names no source; add the source you checked it against."
        )
    if not verified and not note.strip():
        raise CoverageInputError(f"{path}: {where} is unverified: add a `note` saying where its figures come from.")
    return verified, ";".join(ids), note


def _sources(rows: Any, path: Path) -> pd.DataFrame:
    out = []
    for i, row in enumerate(rows):
        where = f"[[sources]] #{i + 1}"
        out.append(
            {
                "id": _text(row, "id", path, where),
                "title": _text(row, "title", path, where),
                "url": str(row.get("url", "")),
                "confirms": _text(row, "confirms", path, where),
            }
        )
    frame = pd.DataFrame(out, columns=["id", "title", "url", "confirms"])
    if frame["id"].duplicated().any():
        raise CoverageInputError(f"{path}: source ids repeat: {sorted(set(frame['id'][frame['id'].duplicated()]))}.")
    return frame


def _tiers(rows: Any, path: Path, known: set[str]) -> pd.DataFrame:
    out = []
    for i, row in enumerate(rows):
        where = f"[[tiers]] #{i + 1} ({row.get('key', '?')})"
        level = row.get("level")
        if isinstance(level, bool) or not isinstance(level, int) or level < 1:
            raise CoverageInputError(f"{path}: {where} needs an integer `level` >= 1 (larger = bigger circle).")
        verified, ids, note = _provenance(row, path, where, known)
        rec: dict[str, Any] = {
            "key": _text(row, "key", path, where),
            "name_zh": _text(row, "name_zh", path, where),
            "name_en": str(row.get("name_en", "")),
            "level": level,
            "minutes": _number(row, "minutes", path, where),
            "clause": str(row.get("clause", "")),
            "verified": verified,
            "sources": ids,
            "note": note,
        }
        rec.update({k: _number(row, k, path, where) for k in _TIER_NUMBERS})
        if rec["walk_m_min"] > rec["walk_m_max"]:
            raise CoverageInputError(f"{path}: {where} walk_m_min is above walk_m_max.")
        out.append(rec)
    if not out:
        raise CoverageInputError(f"{path}: no [[tiers]]; a standard needs at least one tier.")
    frame = pd.DataFrame(out)[_TIER_COLUMNS].sort_values("level", ascending=False, kind="stable")
    for col in ("key", "level"):
        if frame[col].duplicated().any():
            raise CoverageInputError(f"{path}: tier {col}s repeat: {sorted(set(frame[col][frame[col].duplicated()]))}.")
    return frame.reset_index(drop=True)


def _facilities(rows: Any, path: Path, tiers: set[str], known: set[str]) -> pd.DataFrame:
    out = []
    for i, row in enumerate(rows):
        where = f"[[facilities]] #{i + 1} ({row.get('key', '?')})"
        tier = _text(row, "tier", path, where)
        if tier not in tiers:
            raise CoverageInputError(f"{path}: {where} tier {tier!r} is not one of the tiers {sorted(tiers)}.")
        cls = row.get("class")
        if cls not in CLASSES:
            raise CoverageInputError(f"{path}: {where} class {cls!r}: give 'required' or 'optional'.")
        verified, ids, note = _provenance(row, path, where, known)
        radius = _number(row, "service_radius_m", path, where)
        if radius == 0:
            raise CoverageInputError(f"{path}: {where} service_radius_m = 0: leave it out if the standard gives none.")
        out.append(
            {
                "key": _text(row, "key", path, where),
                "name_zh": _text(row, "name_zh", path, where),
                "name_en": str(row.get("name_en", "")),
                "tier": tier,
                "class": cls,
                "service_radius_m": radius,
                "per_1000": _number(row, "per_1000", path, where),
                "per_1000_unit": str(row.get("per_1000_unit", "")),
                "clause": str(row.get("clause", "")),
                "verified": verified,
                "sources": ids,
                "note": note,
            }
        )
    frame = pd.DataFrame(out, columns=_FACILITY_COLUMNS)
    if frame["key"].duplicated().any():
        raise CoverageInputError(
            f"{path}: facility keys repeat: {sorted(set(frame['key'][frame['key'].duplicated()]))}."
        )
    return frame
