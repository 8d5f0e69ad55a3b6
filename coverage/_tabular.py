"""Read the tables users bring (halls, residents, grids): one entry point, :func:`read_table`.

Used by :func:`coverage.sites.read_sites` and the :mod:`coverage.demand`
readers, so every input table is read the same way:

- **Formats**: CSV (``.csv``, ``.tsv``, ``.txt``), JSON records (``.json``: a
  list of objects, nested fields flattened as ``location.lng``), GeoJSON
  (``.geojson``, or a ``.json`` FeatureCollection), GeoPackage (``.gpkg``),
  FlatGeobuf (``.fgb``) and Shapefile (``.shp``). Anything else is refused
  with the list, so GDAL never opens a VRT or a network resource; a file
  whose first bytes do not match its suffix (an Excel workbook named
  ``.csv``, a VRT named ``.gpkg``) is refused.
- **Untrusted files** (:mod:`coverage._textfile`): regular files only, size
  bounded by the memory limit, encodings and delimiters detected; deeply
  nested JSON is an error naming the file, not a traceback.
- **Rows** are named as the user counts them (:class:`~coverage._rows.RowRef`).
"""

from __future__ import annotations

import difflib
import io
import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ._errors import CoverageInputError
from ._rows import RowRef, few
from ._textfile import check_regular, decode_text, magic_of, read_bytes, read_csv_text, refuse_binary

__all__ = ["TABLE_SUFFIXES", "Table", "read_table"]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
JSON_SUFFIXES = (".json", ".geojson")
VECTOR_SUFFIXES = (".gpkg", ".fgb", ".shp")
TABLE_SUFFIXES = CSV_SUFFIXES + JSON_SUFFIXES + VECTOR_SUFFIXES
"""File suffixes :func:`read_table` reads."""

_VECTOR_MAGIC = {".gpkg": b"SQLite format 3\x00", ".fgb": b"fgb\x03", ".shp": b"\x00\x00\x27\x0a"}
_SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")


@dataclass(frozen=True)
class Table:
    """A table read by :func:`read_table`.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows; a GeoDataFrame for geometry files. Index 0..n-1.
    rows : RowRef
        How to name its rows in messages.
    label : str
        The file path (or frame description).
    kind : {"csv", "json", "geojson", "vector", "frame"}
        What was read.
    encoding : str or None
        Text encoding used (text files only).
    delimiter : str or None
        CSV delimiter used.
    crs_implied : bool
        True for GeoJSON, whose WGS-84 is implied by the format rather than
        declared: an explicit ``crs=`` of the caller overrides it.
    """

    frame: pd.DataFrame
    rows: RowRef
    label: str
    kind: Literal["csv", "json", "geojson", "vector", "frame"]
    encoding: str | None = None
    delimiter: str | None = None
    crs_implied: bool = False


# ---------------------------------------------------------------------------
# JSON records and GeoJSON
# ---------------------------------------------------------------------------


def _parse_json(text: str, *, label: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise CoverageInputError(
            f"{label}: the JSON is nested too deeply to be a table; give a list of records or a GeoJSON "
            "FeatureCollection."
        ) from None
    except json.JSONDecodeError as exc:
        raise CoverageInputError(
            f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); fix the file or "
            "export it again."
        ) from None


def _records_frame(data: Any, *, label: str) -> Table:
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        if len(lists) != 1:
            found = f"lists under {few(lists)}" if lists else "no list of records"
            raise CoverageInputError(
                f"{label}: JSON is neither GeoJSON nor a list of records ({found}); give a list of objects "
                'such as [{"id": "a", "lon": 114.05, "lat": 22.54}].'
            )
        data = data[lists[0]]
    if not isinstance(data, list):
        raise CoverageInputError(f"{label}: JSON holds a {type(data).__name__}, not a list of records.")
    if not data:
        raise CoverageInputError(f"{label}: the list of records is empty; there is nothing to read.")
    not_objects = [i for i, r in enumerate(data) if not isinstance(r, dict)]
    rows = RowRef(label, "records")
    if not_objects:
        raise CoverageInputError(
            f'{label}: {rows.describe(not_objects)} are not objects ({{"key": value}}); every record must be one.'
        )
    try:
        frame = pd.json_normalize(data, max_level=4)
    except RecursionError:  # pragma: no cover - json.loads refuses deeper input first
        raise CoverageInputError(f"{label}: the records are nested too deeply.") from None
    return Table(frame, rows, label, "json", encoding="utf-8")


def _is_geojson(data: Any) -> bool:
    return isinstance(data, dict) and data.get("type") in ("FeatureCollection", "Feature")


# ---------------------------------------------------------------------------
# GDAL formats
# ---------------------------------------------------------------------------


def _gdal(func: Any, *args: Any, label: str, **kwargs: Any) -> Any:
    import pyogrio

    with warnings.catch_warnings():
        # pyogrio reads from memory under a name without suffix; GDAL remarks on it.
        warnings.filterwarnings("ignore", message=".*non conformant file extension", category=RuntimeWarning)
        try:
            return func(*args, **kwargs)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise CoverageInputError(f"{label}: cannot be read ({exc}); check that the file is complete.") from None
        except pyogrio.errors.FieldTypeError as exc:  # pragma: no cover
            raise CoverageInputError(f"{label}: a field cannot be read ({exc}).") from None


def _choose_layer(source: Any, *, label: str, layer: str | int | None) -> str | int | None:
    import pyogrio

    layers = [str(name) for name in _gdal(pyogrio.list_layers, source, label=label)[:, 0]]
    if not layers:
        raise CoverageInputError(f"{label}: the file holds no layer; there is nothing to read.")
    if layer is None:
        if len(layers) > 1:
            raise CoverageInputError(
                f"{label}: holds {len(layers)} layers ({few(layers)}); pass layer= (scenario key 'layer') "
                "naming the one to read."
            )
        return None
    if isinstance(layer, int) and not isinstance(layer, bool):
        if not 0 <= layer < len(layers):
            raise CoverageInputError(f"{label}: layer={layer} but the file holds layers 0..{len(layers) - 1}.")
        return layer
    if str(layer) not in layers:
        close = difflib.get_close_matches(str(layer), layers, n=3)
        hint = f" Did you mean {few(close, 3)}?" if close else ""
        raise CoverageInputError(f"{label}: no layer {layer!r}; the layers are {few(layers)}.{hint}")
    return str(layer)


def _read_vector(source: Any, *, label: str, layer: str | int | None, encoding: str | None, kind: str) -> Table:
    import pyogrio

    chosen = _choose_layer(source, label=label, layer=layer)
    kwargs: dict[str, Any] = {"layer": chosen} if chosen is not None else {}
    if encoding is not None:
        kwargs["encoding"] = encoding
    frame = _gdal(pyogrio.read_dataframe, source, label=label, **kwargs)
    if len(frame) == 0:
        raise CoverageInputError(f"{label}: the layer has no features; there is nothing to read.")
    frame = frame.reset_index(drop=True)
    return Table(
        frame,
        RowRef(label, "features"),
        label,
        "geojson" if kind == "geojson" else "vector",
        encoding=encoding,
        crs_implied=kind == "geojson",
    )


def _read_geojson_bytes(data: bytes, *, label: str, layer: str | int | None, encoding: str | None) -> tuple[Table, Any]:
    """Read a ``.json``/``.geojson`` file: a GeoJSON through GDAL, or JSON records."""
    refuse_binary(data, label=label, expected="a JSON text file")
    text, used = decode_text(data, label=label, encoding=encoding)
    if not text.strip():
        raise CoverageInputError(f"{label}: the file is empty.")
    parsed = _parse_json(text, label=label)
    if not _is_geojson(parsed):
        if layer is not None:
            raise CoverageInputError(f"{label}: layer={layer!r} applies to GeoPackage files only; remove it.")
        return _records_frame(parsed, label=label), parsed
    if isinstance(parsed, dict) and parsed.get("type") == "FeatureCollection" and not parsed.get("features"):
        raise CoverageInputError(f"{label}: the FeatureCollection has no features; there is nothing to read.")
    del parsed
    utf8 = io.BytesIO(text.encode("utf-8"))
    table = _read_vector(utf8, label=label, layer=layer, encoding=None, kind="geojson")
    return Table(table.frame, table.rows, label, "geojson", encoding=used, crs_implied=True), None


def _read_gdal_file(path: Path, *, label: str, suffix: str, layer: str | int | None, encoding: str | None) -> Table:
    if suffix == ".shp":
        for sidecar in _SHAPEFILE_SIDECARS:
            other = path.with_suffix(sidecar)
            if os.path.lexists(other):
                check_regular(other, label=str(other))
        head = read_bytes(path, label=label, kind="vector")[:4]
        if head != _VECTOR_MAGIC[suffix]:
            raise CoverageInputError(f"{label}: not a Shapefile (wrong header); check the file.")
        return _read_vector(str(path), label=label, layer=layer, encoding=encoding, kind="vector")
    if encoding is not None:
        raise CoverageInputError(
            f"encoding={encoding!r} for {label}: GeoPackage and FlatGeobuf text is always UTF-8; remove encoding."
        )
    data = read_bytes(path, label=label, kind="vector")
    if not data.startswith(_VECTOR_MAGIC[suffix]):
        what = magic_of(data) or "something else (not its format)"
        raise CoverageInputError(f"{label}: named {suffix} but this is {what}; check the file.")
    return _read_vector(io.BytesIO(data), label=label, layer=layer, encoding=None, kind="vector")


# ---------------------------------------------------------------------------
# the one entry point
# ---------------------------------------------------------------------------


def read_table(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    label: str | None = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    text_columns: Sequence[str | None] = (),
) -> Table:
    r"""Read a table file (or take a frame) for the planner's readers.

    Parameters
    ----------
    source : path or DataFrame
        A file (see the module docstring for formats), or a DataFrame /
        GeoDataFrame (copied, never modified).
    label : str, optional
        Name for messages; default the path (or "the DataFrame").
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage); required when there are several.
    encoding : str, optional
        Force the text encoding of a CSV/JSON file (or a Shapefile's .dbf).
    text_columns : sequence of str
        CSV columns read as text, never as numbers (ids such as ``"007"``).

    Returns
    -------
    Table

    Raises
    ------
    CoverageInputError
        For a missing, non-regular, unreadable, oversized, binary or empty
        file, an unknown suffix, an undecodable text, a delimiter that cannot
        be told, rows with the wrong number of fields, repeated header names,
        invalid or too deeply nested JSON, several layers without ``layer``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "halls.csv"
    >>> _ = path.write_bytes("id;名称;lon;lat\n007;福田;114.05;22.54\n".encode("gbk"))
    >>> table = read_table(path, text_columns=["id"])
    >>> table.encoding, table.delimiter, table.frame["id"].tolist()
    ('gb18030', ';', ['007'])
    """
    if isinstance(source, pd.DataFrame):
        name = label or f"the {type(source).__name__}"
        if layer is not None or encoding is not None:
            raise CoverageInputError(f"{name}: layer= and encoding= apply to files only; remove them.")
        frame = source.copy()
        return Table(frame, RowRef.for_frame(frame, name), name, "frame")
    if not isinstance(source, (str, os.PathLike)):
        raise CoverageInputError(
            f"expected a file path or a DataFrame, got {type(source).__name__}; pass the path of a CSV, JSON, "
            "GeoJSON or GeoPackage file."
        )
    path = Path(source)
    name = label or str(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise CoverageInputError(
            f"{name}: files ending in {suffix or '(no suffix)'!r} are not read; give one of "
            f"{', '.join(TABLE_SUFFIXES)} (convert other formats to GeoPackage, e.g. with ogr2ogr or QGIS)."
        )
    if suffix in CSV_SUFFIXES:
        if layer is not None:
            raise CoverageInputError(f"{name}: layer={layer!r} applies to GeoPackage files only; remove it.")
        frame, numbers, used, delimiter = read_csv_text(
            path, label=name, encoding=encoding, text_columns=[c for c in text_columns if c], tab=suffix == ".tsv"
        )
        return Table(frame, RowRef(name, "csv", numbers), name, "csv", encoding=used, delimiter=delimiter)
    if suffix in JSON_SUFFIXES:
        data = read_bytes(path, label=name, kind="json")
        table, _ = _read_geojson_bytes(data, label=name, layer=layer, encoding=encoding)
        return table
    return _read_gdal_file(path, label=name, suffix=suffix, layer=layer, encoding=encoding)
