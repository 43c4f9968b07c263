"""PDF documents in Chinese: the service certificate (志愿服务证明) and the yearly sheets.

reportlab's built-in CID font STSong-Light (Adobe's Simplified Chinese set) draws the Chinese text;
no font file ships with the project, and every PDF reader in the city has the font or a substitute.
The font is registered at the first document, not at import.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"


@dataclass(frozen=True)
class PdfTable:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    caption: str = ""


@dataclass(frozen=True)
class PdfDocument:
    title: str
    lines: Sequence[str] = ()  # paragraphs under the title
    tables: Sequence[PdfTable] = ()
    footer: Sequence[str] = ()  # paragraphs after the tables (issuer, date, signature line)
    wide: bool = False  # landscape, for sheets with many columns
    author: str = "GridLoop 网格闭环"
    meta: dict[str, str] = field(default_factory=dict)


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=1, spaceAfter=6 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=17, spaceAfter=2 * mm)
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return title, body, cell


def _text(value: object) -> str:
    return escape("" if value is None else str(value))


def render(document: PdfDocument) -> bytes:
    """The document as PDF bytes; text is escaped, so a name with markup prints as typed."""
    title_style, body_style, cell_style = _styles()
    buffer = io.BytesIO()
    size = landscape(A4) if document.wide else A4
    doc = SimpleDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=document.title,
        author=document.author,
    )
    story: list[Flowable] = [Paragraph(_text(document.title), title_style)]
    story += [Paragraph(_text(line), body_style) for line in document.lines]
    width = size[0] - 30 * mm
    for table in document.tables:
        if table.caption:
            story.append(Paragraph(_text(table.caption), body_style))
        data = [[Paragraph(_text(h), cell_style) for h in table.headers]]
        data += [[Paragraph(_text(v), cell_style) for v in row] for row in table.rows]
        columns = max(1, len(table.headers))
        grid = Table(data, colWidths=[width / columns] * columns, repeatRows=1)
        grid.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [grid, Spacer(1, 5 * mm)]
    story += [Paragraph(_text(line), body_style) for line in document.footer]
    doc.build(story)
    return buffer.getvalue()


def pdf_response_headers(filename: str) -> dict[str, str]:
    """Content-Disposition for a download named in Chinese (RFC 6266 / 5987)."""
    return {"Content-Disposition": f"attachment; filename=\"document.pdf\"; filename*=UTF-8''{quote(filename)}"}
