r"""The one way out for user text: escaping for HTML, JavaScript/JSON, Markdown and spreadsheets.

Hall ids, names and addresses, scenario titles, descriptions and labels, area
and group names come from files nobody checked (scraped points of interest,
other offices' spreadsheets, shared scenario files). Every such string reaches
an output through one of these functions, chosen by the output's context:

================  ==============================================================
:func:`clean`      any output: text, NUL and control characters -> U+FFFD
:func:`display`    short labels: whitespace collapsed, cut to ``max_chars``
:func:`html_text`  HTML text and attribute values (report.html, map boxes); also
                   neutralises ``{ } $ ` \\`` so that neither a template engine
                   (branca/Jinja2 renders rendered text again) nor a JavaScript
                   template literal can evaluate it
:func:`html_user`  :func:`html_text` isolated in ``<bdi>`` (right-to-left
                   overrides cannot reorder the text around it)
:func:`js_json`    data embedded in ``<script>``: JSON whose strings carry
                   ``< > & { } $ ` '`` and line separators as ``\\uXXXX``
:func:`md_text`    Markdown table cells and paragraphs (HTML escaped, pipes and
                   Markdown syntax backslash-escaped)
:func:`sheet_cell` CSV and spreadsheet cells: a leading ``= + - @``, tab or
                   carriage return gets a ``'`` so no formula runs
================  ==============================================================

The map puts user text only into :func:`js_json` data read by its own script,
which writes it with ``textContent`` (never ``innerHTML``); nothing a user
wrote is ever template source.

Examples
--------
>>> html_text('{{7*7}} <b>')
'&#123;&#123;7*7&#125;&#125; &lt;b&gt;'
>>> sheet_cell("=1+1")
"'=1+1"
>>> print(js_json({"name": "</script>${x}"}))
{"name":"\u003c/script\u003e\u0024\u007bx\u007d"}
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = [
    "MAX_LABEL_CHARS",
    "clean",
    "clean_frame",
    "display",
    "html_text",
    "html_user",
    "js_json",
    "map_values",
    "md_text",
    "sheet_cell",
    "sheet_frame",
]

#: Longest user text shown in a map label, popup or report table cell (the
#: full text stays in the CSV, GeoPackage and workbook).
MAX_LABEL_CHARS: Final = 160

# NUL, other C0 controls except tab/newline/CR, DEL and C1 controls; lone
# surrogates (not encodable as UTF-8) too.
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACE: Final = re.compile(r"\s+")
_HTML_EXTRA: Final = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;", "\\": "&#92;"})
_JSON_STRING: Final = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_EXTRA: Final = {c: f"\\u{ord(c):04x}" for c in ("<", ">", "&", "{", "}", "$", "`", "'", "\u2028", "\u2029")}
_JSON_EXTRA_RE: Final = re.compile("[" + re.escape("".join(_JSON_EXTRA)) + "]")
_MD_SPECIAL: Final = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START: Final = re.compile(r"^([#+>-]|\d+(?=[.)]))")
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
# A value of a "\n"-joined column that starts like a formula (a superset: also
# matches after a newline inside a value, which then takes the slow path).
_FORMULA_LINE: Final = re.compile(r"(?:^|\n)[=+\-@\t\r]")
#: Excel's limit on the characters of one cell.
SHEET_CELL_MAX: Final = 32_767


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(float(value))


def clean(value: Any) -> str:
    r"""Return ``value`` as text with NUL and other control characters replaced.

    Missing values (None, NaN, ``pd.NA``) become ``""``. Tab, newline and
    carriage return are kept; every other C0/C1 control character, DEL and
    lone surrogates become U+FFFD (``�``), since they cannot be stored in
    GeoPackage text and hide characters on screen.

    Examples
    --------
    >>> clean("a\x00b"), clean(None), clean(12)
    ('a�b', '', '12')
    """
    if _is_missing(value):
        return ""
    return _CONTROL.sub("\ufffd", str(value))


def display(value: Any, max_chars: int | None = MAX_LABEL_CHARS) -> str:
    r"""Return :func:`clean` text on one line, cut to ``max_chars`` with ``…``.

    Examples
    --------
    >>> display("a\n  b"), display("x" * 10, 4)
    ('a b', 'xxx…')
    """
    text = _SPACE.sub(" ", clean(value)).strip()
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(max_chars - 1, 0)] + "…"
    return text


def html_text(value: Any, max_chars: int | None = None) -> str:
    r"""Escape text for HTML element content and quoted attribute values.

    ``& < > " '`` become entities, and so do ``{ } $ ` \\`` (as ``&#123;``
    ...), which a browser shows literally but which no Jinja2 pass, JavaScript
    template literal or string escape can interpret.
    """
    text = display(value, max_chars) if max_chars is not None else clean(value)
    return html.escape(text, quote=True).translate(_HTML_EXTRA)


def html_user(value: Any, max_chars: int | None = MAX_LABEL_CHARS) -> str:
    """Return :func:`html_text` wrapped in ``<bdi>`` so bidi overrides stay inside it."""
    return f"<bdi>{html_text(value, max_chars)}</bdi>"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _finite(float(value))
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return clean(value)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _sanitise(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {clean(k): _sanitise(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_sanitise(v) for v in obj]
    if isinstance(obj, str):
        return clean(obj)
    if isinstance(obj, float):
        return _finite(obj)
    if isinstance(obj, np.ndarray) and obj.dtype.kind not in "iub":
        return _sanitise(obj.tolist())  # integer arrays (packed map coordinates) pass as they are
    return obj


def js_json(obj: Any) -> str:
    r"""Serialise ``obj`` as JSON that is safe inside ``<script>`` and any template.

    Inside string literals, ``< > & { } $ ` '`` and U+2028/U+2029 are written
    as ``\\uXXXX`` escapes: the JSON parses to the same text, but the source
    contains no ``</script>``, no ``{{``/``{%`` for a template engine, and no
    backtick or ``${`` for a JavaScript template literal. Non-finite floats
    become ``null``; text is :func:`clean`-ed.
    """
    raw = json.dumps(
        _sanitise(obj), ensure_ascii=False, default=_json_default, allow_nan=False, separators=(",", ":")
    )

    def escape_string(match: re.Match[str]) -> str:
        return _JSON_EXTRA_RE.sub(lambda m: _JSON_EXTRA[m.group()], match.group())

    return _JSON_STRING.sub(escape_string, raw)


def md_text(value: Any, max_chars: int | None = MAX_LABEL_CHARS) -> str:
    r"""Escape text for a Markdown paragraph or table cell.

    HTML is escaped (a Markdown viewer renders raw HTML), Markdown syntax and
    table pipes are backslash-escaped, and the text is kept on one line.

    Examples
    --------
    >>> md_text("a|b <i>")
    'a\\|b &lt;i&gt;'
    """
    text = html.escape(display(value, max_chars), quote=False).translate(_HTML_EXTRA)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(r"\\\1", text)


def sheet_cell(value: Any) -> Any:
    """Make one CSV/spreadsheet cell safe: text that a spreadsheet would run as a formula gets a ``'``.

    Only text is changed (numbers stay numbers): :func:`clean`, a ``'``
    before a leading ``= + - @``, tab or carriage return, and a cut at Excel's
    32,767 characters.
    """
    if not isinstance(value, str):
        return value
    text = clean(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return text[:SHEET_CELL_MAX]


def _text_columns(frame: pd.DataFrame) -> list[Any]:
    return [
        c
        for c in frame.columns
        if (pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c]))
        and c != getattr(frame, "_geometry_column_name", None)
    ]


def map_values(column: pd.Series, fn: Any) -> pd.Series:
    """Return ``column.map(fn)`` computed once per distinct value (missing values kept as they are).

    The tables of a city have hundreds of thousands of rows but few distinct
    texts per column (groups, statuses, hall ids), so this is a dictionary
    look-up per row instead of a Python call.
    """
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists): one call per row
        return column.map(lambda v: v if _is_missing(v) else fn(v)).astype(object)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(v) for v in uniques]
    values = column.to_numpy(dtype=object)
    out = mapped[codes]
    missing = codes < 0
    out[missing] = values[missing]
    return pd.Series(out, index=column.index, dtype=object, name=column.name)


def _plain_texts(column: pd.Series, *, sheet: bool) -> bool:
    """Tell whether every present value is text that :func:`clean` (and :func:`sheet_cell`) leave as it is."""
    present = column.dropna()
    if pd.api.types.infer_dtype(present, skipna=True) not in ("string", "empty"):
        return False
    texts = present.tolist()
    if not texts:
        return True
    joined = "\n".join(texts)
    if _CONTROL.search(joined):
        return False
    return not (sheet and (_FORMULA_LINE.search(joined) or max(map(len, texts)) > SHEET_CELL_MAX))


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with :func:`clean` applied to every text cell (and column name)."""
    out = frame.copy()
    for col in _text_columns(out):
        if _plain_texts(out[col], sheet=False):
            out[col] = out[col].astype(object)
        else:
            out[col] = map_values(out[col], clean)
    return out.rename(columns=lambda c: clean(c) if isinstance(c, str) else c)


def sheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with :func:`sheet_cell` applied to every text cell and column name."""
    out = frame.copy()
    for col in _text_columns(out):
        if _plain_texts(out[col], sheet=True):
            out[col] = out[col].astype(object)
        else:
            out[col] = map_values(out[col], lambda v: sheet_cell(str(v)))
    return out.rename(columns=lambda c: sheet_cell(c) if isinstance(c, str) else c)
