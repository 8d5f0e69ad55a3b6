"""Bytes and text of untrusted files: regular files only, bounded size, encoding and CSV delimiter.

- :func:`read_bytes` reads a whole file only when it is a regular file (a
  symlink to a FIFO or a device is refused before it is opened, and the open
  descriptor is checked again) and small enough for the memory limit;
- :func:`decode_text`: UTF-8 with or without BOM, UTF-16 with BOM (Excel's
  "Unicode text"), GB18030/GBK (what Excel saves on Chinese Windows, taken
  when the text reads as Chinese), and Windows-1252/Latin-1 only when nothing
  else decodes, with a warning saying so; ``encoding=`` forces one;
- :func:`read_csv_text`: the delimiter (``,`` ``;`` or tab) detected, rows
  with more or fewer fields than the header refused by spreadsheet row
  number, repeated header names refused, ids kept as text.
"""

from __future__ import annotations

import array
import csv
import io
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._defaults import MEMORY_LIMIT_ENV
from ._errors import CoverageInputError, CoverageWarning, warn
from ._rows import few
from ._validate import memory_limit_bytes

__all__ = ["check_regular", "decode_text", "detect_delimiter", "read_bytes", "read_csv_text", "refuse_binary"]

DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}

# Bytes of memory a parse needs per byte of file (roughly: pandas frames of
# short text fields take 5-10x the file; Python JSON objects 10-20x).
_PARSE_FACTOR = {"csv": 8, "json": 20, "vector": 4}

MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook or a zipped file)",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook (OLE2)",
    b"\x1f\x8b": "gzip-compressed data",
    b"SQLite format 3\x00": "an SQLite database (a GeoPackage?)",
    b"%PDF": "a PDF document",
    b"fgb\x03": "a FlatGeobuf file",
    b"\x00\x00\x27\x0a": "a Shapefile (.shp)",
}
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
EXCEL_CSV_HINT = "in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'"


# ---------------------------------------------------------------------------
# bytes from a regular file
# ---------------------------------------------------------------------------


def _kind_of_mode(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: Path, *, label: str) -> os.stat_result:
    """Stat ``path`` (following symlinks) and refuse anything but an existing regular file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CoverageInputError(f"{label}: file not found; check the path.") from None
    except PermissionError:
        raise CoverageInputError(f"{label}: permission denied; make the file readable.") from None
    except OSError as exc:
        raise CoverageInputError(f"{label}: cannot be opened ({exc.strerror}); check the path.") from None
    if not stat.S_ISREG(st.st_mode):
        raise CoverageInputError(
            f"{label}: is {_kind_of_mode(st.st_mode)}, not a regular file; only files are read "
            "(a symlink must point to a file). Give the path of the file itself."
        )
    return st


def _check_size(size: int, *, label: str, kind: str) -> None:
    need = size * _PARSE_FACTOR[kind]
    limit = memory_limit_bytes()
    if need > limit:
        raise CoverageInputError(
            f"{label}: the file is {size / 1024**2:,.0f} MiB; reading it would take about "
            f"{need / 1024**3:,.1f} GiB of memory, more than the {limit / 1024**3:,.1f} GiB allowed. "
            f"Cut it to the study area, convert it to GeoPackage, or raise ${MEMORY_LIMIT_ENV} "
            "if the machine has the memory."
        )


def read_bytes(path: Path, *, label: str, kind: str = "csv") -> bytes:
    """Read a whole regular file, refusing FIFOs, devices, folders and oversized files.

    The file is stat-ed before it is opened (so a device is never opened) and
    the open descriptor is checked again (so a file swapped in between is
    refused too). ``O_NONBLOCK`` keeps a FIFO from blocking the open.
    """
    before = check_regular(path, label=label)
    _check_size(before.st_size, label=label, kind=kind)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise CoverageInputError(f"{label}: cannot be opened ({exc.strerror}); check the path.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CoverageInputError(
                f"{label}: is {_kind_of_mode(st.st_mode)}, not a regular file; only files are read."
            )
        _check_size(st.st_size, label=label, kind=kind)
        chunks = []
        remaining = st.st_size + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > st.st_size:
        raise CoverageInputError(f"{label}: the file grew while it was read; read it again when it is complete.")
    return data


# ---------------------------------------------------------------------------
# text: encoding and binary content
# ---------------------------------------------------------------------------


def magic_of(data: bytes) -> str | None:
    for magic, what in MAGIC.items():
        if data.startswith(magic):
            return what
    return None


def refuse_binary(data: bytes, *, label: str, expected: str) -> None:
    what = magic_of(data)
    if what is None and any(data.startswith(bom) for bom, _ in _BOMS):
        return
    if what is None and b"\x00" in data[:65536]:
        what = "binary data (it holds NUL bytes)"
    if what is not None:
        excel = " Save it from Excel as 'CSV UTF-8 (Comma delimited)'." if "Excel" in what else ""
        raise CoverageInputError(
            f"{label}: this is {what}, not {expected} as its name says.{excel} Give a CSV, JSON, "
            "GeoJSON or GeoPackage file with the right suffix."
        )


def _line_of(text_bytes: bytes, offset: int) -> int:
    return text_bytes.count(b"\n", 0, offset) + 1


def _reads_as_chinese(text: str, sample: int = 1_000_000) -> bool:
    """Whether the non-ASCII characters of ``text`` are (almost) all common Chinese (GB2312).

    Latin-1 text misread as GBK gives rare characters outside GB2312; real
    Chinese text is written almost entirely in it. Only the first ``sample``
    characters are looked at.
    """
    head = text[:sample]
    n_wide = len(head) - len(head.encode("ascii", errors="ignore"))
    if n_wide == 0:
        return True
    unencodable = head.encode("gb2312", errors="replace").count(b"?") - head.count("?")
    return unencodable <= 0.1 * n_wide


def decode_text(data: bytes, *, label: str, encoding: str | None = None) -> tuple[str, str]:
    r"""Decode a text file: the given encoding, or UTF-8 (BOM or not), UTF-16 (BOM), GB18030, Latin-1.

    Returns
    -------
    (str, str)
        The text (without BOM) and the encoding used.

    Warns
    -----
    CoverageWarning
        When the text was decoded as Windows-1252/Latin-1 (nothing else
        fitted), naming the encoding and how to force another.

    Examples
    --------
    >>> decode_text("名称,lon\n".encode("gbk"), label="halls.csv")
    ('名称,lon\n', 'gb18030')
    """
    if encoding is not None:
        return _decode_forced(data, label=label, encoding=encoding)
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise CoverageInputError(
                    f"{label}: starts with a {name} byte-order mark but is not valid {name} (line "
                    f"{_line_of(data, exc.start)}); save it again as UTF-8, or pass encoding= with its real "
                    "encoding."
                ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _reads_as_chinese(text):
        return text, "gb18030"
    for name in ("cp1252", "latin-1"):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        warn(
            f"{label}: not UTF-8 and not Chinese GBK/GB18030; read as {name} (Western European). If "
            "names look wrong, pass its real encoding (encoding= or the scenario key 'encoding'), or "
            f"save it as UTF-8 ({EXCEL_CSV_HINT}).",
            CoverageWarning,
            stacklevel=4,
        )
        return text, name
    raise CoverageInputError(f"{label}: cannot be decoded as text; save it as UTF-8.")  # pragma: no cover


def _decode_forced(data: bytes, *, label: str, encoding: str) -> tuple[str, str]:
    try:
        codec = "utf-8-sig" if encoding.strip().lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        text = data.decode(codec)
    except LookupError:
        raise CoverageInputError(
            f"encoding={encoding!r} for {label}: not an encoding Python knows; use e.g. 'utf-8', 'gb18030' "
            "or 'latin-1'."
        ) from None
    except UnicodeDecodeError as exc:
        raise CoverageInputError(
            f"{label}: not valid {encoding} (byte {exc.start} on line {_line_of(data, exc.start)}); pass the "
            "file's real encoding, or leave encoding unset to detect it."
        ) from None
    return text.removeprefix("\ufeff"), encoding


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def _records(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))


def _sample(text: str, limit: int = 65536) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut if cut > 0 else limit]


def detect_delimiter(text: str, *, label: str) -> str:
    r"""Pick the delimiter (``,`` ``;`` or tab) that splits the header and rows consistently.

    Raises
    ------
    CoverageInputError
        When no delimiter (or more than one) gives the same number of columns
        (at least two) in the header and the first rows, saying what to change.

    Examples
    --------
    >>> detect_delimiter("name;lon;lat\nA;114,05;22,54\n", label="x.csv")
    ';'
    """
    sample = _sample(text)
    fits: dict[str, int] = {}
    for delimiter in DELIMITERS:
        try:
            counts = [len(r) for r in _records(sample, delimiter) if r][:200]
        except csv.Error:
            continue
        if not counts:
            continue
        if counts[0] > 1 and all(c == counts[0] for c in counts):
            fits[delimiter] = counts[0]
    if len(fits) == 1:
        return next(iter(fits))
    if len(fits) > 1:
        if "\t" in fits:
            return "\t"  # a tab almost never sits inside a value
        options = ", ".join(f"{_DELIMITER_NAMES[d]} ({n} columns)" for d, n in fits.items())
        raise CoverageInputError(
            f"{label}: cannot tell the delimiter; the header splits evenly by {options}. Save the file "
            f"with one delimiter ({EXCEL_CSV_HINT})."
        )
    header = sample.splitlines()[0] if sample.strip() else ""
    per_delim = {d: header.count(d) for d in DELIMITERS}
    best = max(per_delim, key=lambda d: per_delim[d])
    if per_delim[best] == 0:
        raise CoverageInputError(
            f"{label}: the header {header[:120]!r} has no comma, semicolon or tab; a table needs at "
            f"least two columns separated by one of them ({EXCEL_CSV_HINT})."
        )
    return best  # ragged rows: reported with their row numbers by _check_fields


def _scan(text: str, *, label: str, delimiter: str) -> tuple[list[str], npt.NDArray[np.int64]]:
    """Stream the records once: the header, and each data row's spreadsheet row number.

    Rows with more or fewer fields than the header are refused (all of them
    named, up to five shown). Blank lines count as spreadsheet rows but hold
    no data (pandas skips them too).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    header: list[str] | None = None
    width = 0
    rows = array.array("q")
    bad: list[tuple[int, int]] = []
    for number, record in enumerate(reader, start=1):
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if header is None:
            header, width = record, len(record)
            first = number
            continue
        if len(record) != width:
            bad.append((number, len(record)))
        rows.append(number)
    if header is None:
        raise CoverageInputError(f"{label}: the file is empty; give a header row and one row per item.")
    if bad:
        shown = few([f"row {r} has {n}" for r, n in bad], 5, quote=False)
        name = _DELIMITER_NAMES[delimiter]
        where = "the header is row 1" if first == 1 else f"the header is row {first}"
        raise CoverageInputError(
            f"{label}: the header has {width} fields ({name}-separated) but {len(bad):,} row(s) do not: "
            f"{shown} (spreadsheet row numbers: {where}). A value with a {name} in it must "
            f'be in double quotes ("Hall, North"), as Excel writes it, and every opening quote needs its '
            "closing one; fix those rows."
        )
    return header, np.frombuffer(rows, dtype=np.int64).copy() if rows else np.zeros(0, dtype=np.int64)


def _header(raw: list[str], *, label: str) -> list[str]:
    """Column names of the header row: stripped, unnamed ones called "Unnamed: <i>" as pandas does."""
    names = [h.strip() or f"Unnamed: {i}" for i, h in enumerate(raw)]
    dups = sorted({h for h in names if names.count(h) > 1})
    if dups:
        raise CoverageInputError(
            f"{label}: the header repeats the column name(s) {few(dups)}; give every column its own name."
        )
    return names


def read_csv_text(
    path: Path, *, label: str, encoding: str | None = None, text_columns: Sequence[str] = (), tab: bool = False
) -> tuple[pd.DataFrame, npt.NDArray[np.int64], str, str]:
    """Read a CSV file safely.

    Parameters
    ----------
    path : Path
        The file.
    label : str
        Its name in messages.
    encoding : str, optional
        Force the encoding (else detected, see :func:`decode_text`).
    text_columns : sequence of str
        Columns read as text, never as numbers (ids such as ``"007"``).
    tab : bool, default False
        Tab-separated (a ``.tsv`` file); else the delimiter is detected.

    Returns
    -------
    (DataFrame, numpy.ndarray, str, str)
        The rows (index 0..n-1; only empty cells are missing values, so a
        name "NA" stays text), the spreadsheet row number of each, the
        encoding and the delimiter.
    """
    data = read_bytes(path, label=label, kind="csv")
    refuse_binary(data, label=label, expected="a CSV text file")
    text, used = decode_text(data, label=label, encoding=encoding)
    del data
    if not text.strip():
        raise CoverageInputError(f"{label}: the file is empty; give a header row and one row per item.")
    delimiter = "\t" if tab else detect_delimiter(text, label=label)
    raw_header, numbers = _scan(text, label=label, delimiter=delimiter)
    header = _header(raw_header, label=label)
    text_cols = [c for c in text_columns if c in header]
    try:
        frame = pd.read_csv(
            io.StringIO(text, newline=""),
            sep=delimiter,
            header=0,
            names=header,
            dtype=dict.fromkeys(text_cols, str) or None,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
            skipinitialspace=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise CoverageInputError(f"{label}: cannot be read as CSV ({exc}); {EXCEL_CSV_HINT}.") from None
    if len(frame) != numbers.size:
        raise CoverageInputError(  # pragma: no cover - the two parsers agree on every file tried
            f"{label}: {len(frame)} rows read but {numbers.size} counted; save the file again as CSV "
            f"({EXCEL_CSV_HINT})."
        )
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():  # a row of empty cells (",,,") carries nothing
        frame = frame.loc[~blank].reset_index(drop=True)
        numbers = numbers[~blank]
    if len(frame) == 0:
        raise CoverageInputError(f"{label}: the header is there but no rows; add one row per item.")
    return frame, numbers, used, delimiter
