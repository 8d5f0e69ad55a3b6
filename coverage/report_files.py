"""Render a :class:`~coverage.report_doc.ReportDoc` as ``report.html`` and ``report.docx``.

The HTML page is self-contained (figures embedded as ``data:`` PNGs, styles
inline, no script) and prints cleanly from a browser (A4, tables not split
across pages where avoidable). Every text goes through
:func:`coverage._text.html_text`. The Word file (python-docx) holds the same
blocks; its text is :func:`coverage._text.clean`-ed (XML cannot hold
control characters) and uses a Chinese font for East Asian text.
"""

from __future__ import annotations

import base64
import io as _io
import os
from pathlib import Path

from ._text import clean, html_text
from .report_doc import ReportDoc

__all__ = ["report_html", "write_docx", "write_html"]

_CSS = """
body{font:15px/1.7 "Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei","PingFang SC",sans-serif;color:#212529;
 max-width:980px;margin:24px auto;padding:0 20px}
h1{font-size:24px;margin:0 0 12px}
h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #dee2e6;padding-bottom:4px}
p{margin:6px 0}.note{color:#862e9c;margin:4px 0}
table{border-collapse:collapse;width:100%;margin:8px 0 14px;font-size:13px;page-break-inside:avoid}
th,td{border:1px solid #ced4da;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f1f3f5}
td{unicode-bidi:isolate;overflow-wrap:anywhere}
figure{margin:10px 0 16px;page-break-inside:avoid}figure img{max-width:100%;border:1px solid #dee2e6}
figcaption{font-size:13px;color:#495057}
@page{size:A4;margin:14mm}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}}
"""


def report_html(doc: ReportDoc) -> str:
    """Return the report as one HTML page (no script, figures embedded)."""
    lang = "zh-CN" if doc.lang == "zh" else "en"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html_text(doc.title)}</title><style>{_CSS}</style></head><body>",
    ]
    for block in doc.blocks:
        text = html_text(block.text)
        if block.kind in ("h1", "h2"):
            parts.append(f"<{block.kind}>{text}</{block.kind}>")
        elif block.kind == "p":
            parts.append(f"<p>{text}</p>")
        elif block.kind == "note":
            parts.append(f'<p class="note">{text}</p>')
        elif block.kind == "figure" and block.image is not None:
            data = base64.b64encode(block.image).decode("ascii")
            parts.append(
                f'<figure><img alt="{text}" src="data:image/png;base64,{data}"><figcaption>{text}</figcaption></figure>'
            )
        elif block.kind == "table" and block.table is not None:
            head = "".join(f"<th>{html_text(c)}</th>" for c in block.table.columns)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html_text(v)}</td>" for v in row) + "</tr>"
                for row in block.table.itertuples(index=False)
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_html(doc: ReportDoc, path: str | os.PathLike[str]) -> Path:
    """Write :func:`report_html` to ``path`` (UTF-8)."""
    target = Path(path)
    if target.is_symlink():
        target.unlink()
    target.write_text(report_html(doc), encoding="utf-8")
    return target


def write_docx(doc: ReportDoc, path: str | os.PathLike[str]) -> Path:
    """Write the report as a Word document (python-docx): the same blocks as the HTML page."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    word = Document()
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    for style_name in ("Normal", "Heading 1", "Heading 2", "Caption"):
        style = word.styles[style_name]
        style.font.name = "Microsoft YaHei"
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
            fonts.set(qn(attr), "Microsoft YaHei")
    word.styles["Normal"].font.size = Pt(10.5)
    word.core_properties.title = clean(doc.title)[:255]
    word.core_properties.author = "coverage-planner"
    for block in doc.blocks:
        text = clean(block.text)
        if block.kind == "h1":
            word.add_heading(text, level=1)
        elif block.kind == "h2":
            word.add_heading(text, level=2)
        elif block.kind == "p":
            word.add_paragraph(text)
        elif block.kind == "note":
            run = word.add_paragraph().add_run(text)
            run.font.color.rgb = RGBColor(0x86, 0x2E, 0x9C)
        elif block.kind == "figure" and block.image is not None:
            word.add_picture(_io.BytesIO(block.image), width=Cm(17.0))
            word.add_paragraph(text, style="Caption")
        elif block.kind == "table" and block.table is not None:
            frame = block.table
            table = word.add_table(rows=1, cols=len(frame.columns))
            table.style = "Table Grid"
            for cell, name in zip(table.rows[0].cells, frame.columns, strict=True):
                cell.text = clean(name)
                for run in cell.paragraphs[0].runs:
                    run.font.bold = True
            for row in frame.itertuples(index=False):
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = clean(value)
            for row in table.rows:
                for cell in row.cells:
                    for par in cell.paragraphs:
                        for run in par.runs:
                            run.font.size = Pt(8.5)
    target = Path(path)
    if target.is_symlink():
        target.unlink()
    word.save(str(target))
    return target
