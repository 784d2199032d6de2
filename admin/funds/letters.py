"""Activation letters: one A4 page per household with budgets, activation code and QR code.

The shared look (sender, address window, languages) is :mod:`admin.funds.paper`; the
wording is :mod:`admin.funds.letter_texts`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import qrcode
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from qrcode.constants import ERROR_CORRECT_M

from admin.funds.paper import (
    BOX_FILL,
    BOX_LINE,
    FONT,
    LEFT,
    WIDTH,
    Addressee,
    address_window,
    fit,
    footer,
    format_date,
    format_euro,
    left_to_right,
    reference_block,
    render_each,
    sender,
    start,
    write,
)


@dataclass(frozen=True)
class LetterTexts:
    """The fixed wording of an activation letter in one language (see ``letter_texts``)."""

    language: str
    title: str
    greeting: str
    intro: str
    child: str
    budget: str
    total: str
    period: str
    code_label: str
    code_hint: str
    steps_title: str
    steps: tuple[str, ...]
    keep: str
    date: str
    reference: str


@dataclass(frozen=True)
class LetterChild:
    """One child named in a letter, with the budget issued to it."""

    first_name: str
    budget_cents: int


@dataclass(frozen=True)
class Letter:
    """Everything printed on one household's activation letter."""

    to: Addressee
    activation_code: str
    activation_url: str
    children: list[LetterChild]
    period_start: date
    period_end: date


def group_code(code: str, size: int = 4) -> str:
    """Group an activation code in blocks for reading aloud: "ABCDEFGH" -> "ABCD EFGH"."""
    compact = "".join(code.split()).replace("-", "")
    return " ".join(compact[i : i + size] for i in range(0, len(compact), size))


def qr_png(data: str) -> bytes:
    """Render data as a QR code PNG (error correction M, 4-module quiet zone)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def render_letters(
    letters: Iterable[Letter],
    wording: Callable[[str], LetterTexts],
    *,
    language: str = "nl",
    letter_date: date | None = None,
) -> bytes:
    """Render one A4 page per household in its own language (else ``language``); PDF bytes."""
    return render_each(letters, wording, _render_page, language=language, day=letter_date)


def _render_page(pdf: FPDF, letter: Letter, text: LetterTexts, day: date) -> None:
    """Draw one household's letter on a fresh page."""
    language, to = text.language, letter.to
    sender(pdf, to)
    address_window(pdf, to)
    reference_block(pdf, to, (text.date, text.reference), format_date(day, language))
    pdf.set_xy(LEFT, 96)
    write(pdf, text.title.format(fund=to.fund_name), size=15, bold=True, height=7)
    pdf.ln(2)
    write(pdf, text.greeting.format(parent=to.parent_name), height=5.2)
    pdf.ln(1)
    write(pdf, text.intro.format(municipality=to.municipality_name), height=5.2)
    pdf.ln(2)
    _children_table(pdf, letter.children, text, language)
    pdf.ln(2)
    period = text.period.format(
        start=format_date(letter.period_start, language),
        end=format_date(letter.period_end, language),
    )
    write(pdf, period, height=5.2)
    pdf.ln(3)
    _activation_box(pdf, letter, text)
    _steps(pdf, text)
    pdf.ln(2)
    write(pdf, text.keep.format(municipality=to.municipality_name), size=9, height=4.5)
    footer(pdf, to, text.reference)


def _children_table(
    pdf: FPDF, children: list[LetterChild], text: LetterTexts, language: str
) -> None:
    """List each child's first name and budget, in up to three columns, with a total."""
    columns = min(3, max(1, -(-len(children) // 4)))  # at most four rows up to 12 children
    col_width = 80.0 if columns == 1 else WIDTH / columns
    rows = -(-len(children) // columns)
    top = pdf.get_y()
    pdf.set_font(FONT, "B", 10)
    for col in range(min(columns, len(children)) or 1):
        pdf.set_xy(LEFT + col * col_width, top)
        pdf.cell(col_width * 0.6, 6, text.child, border="B")
        pdf.cell(col_width * 0.4 - 4, 6, text.budget, border="B", align="R")
    pdf.set_font(FONT, "", 10.5)
    for index, child in enumerate(children):
        col, row = divmod(index, rows)
        pdf.set_xy(LEFT + col * col_width, top + 6 + row * 6)
        pdf.cell(col_width * 0.6, 6, fit(pdf, child.first_name, col_width * 0.6 - 2))
        money = format_euro(child.budget_cents, language)
        pdf.cell(col_width * 0.4 - 4, 6, money, align="R")
    pdf.set_xy(LEFT, top + 6 + rows * 6)
    if len(children) > 1:
        total = sum(child.budget_cents for child in children)
        pdf.set_font(FONT, "B", 10.5)
        pdf.cell(col_width * 0.6, 6, text.total, border="T")
        pdf.cell(col_width * 0.4 - 4, 6, format_euro(total, language), border="T", align="R")
        pdf.set_xy(LEFT, pdf.get_y() + 6)


def _activation_box(pdf: FPDF, letter: Letter, text: LetterTexts) -> None:
    """Draw the framed box with the activation code in large type and the QR code."""
    top, height, qr_size = pdf.get_y(), 42.0, 36.0
    pdf.set_fill_color(*BOX_FILL)
    pdf.set_draw_color(*BOX_LINE)
    pdf.set_line_width(0.5)
    pdf.rect(LEFT, top, WIDTH, height, style="DF", round_corners=True, corner_radius=3)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.image(
        io.BytesIO(qr_png(letter.activation_url)),
        x=LEFT + WIDTH - qr_size - 3,
        y=top + 3,
        w=qr_size,
        h=qr_size,
        alt_text=letter.activation_url,
    )
    inner = WIDTH - qr_size - 14
    pdf.set_xy(LEFT + 6, top + 5)
    pdf.set_font(FONT, "", 10)
    pdf.cell(inner, 5, text.code_label, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 22)
    code = group_code(letter.activation_code)
    with left_to_right(pdf):  # "2345 ABCD" stays in this order in an Arabic letter too
        pdf.cell(inner, 13, fit(pdf, code, inner), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(LEFT + 6, pdf.get_y() + 1)
    pdf.set_font(FONT, "", 9)
    pdf.cell(inner, 5, text.code_hint, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 9)
    with left_to_right(pdf):
        pdf.multi_cell(inner, 4.5, letter.activation_url, align="L", wrapmode=WrapMode.CHAR)
    pdf.set_xy(LEFT, top + height + 4)


def _steps(pdf: FPDF, text: LetterTexts) -> None:
    """Print the numbered how-to-pay steps."""
    write(pdf, text.steps_title, size=12, bold=True, height=7)
    for number, step in enumerate(text.steps, start=1):
        top = pdf.get_y() + 0.8
        pdf.set_xy(LEFT, top)
        pdf.set_font(FONT, "B", 10.5)
        pdf.set_fill_color(*BOX_LINE)
        pdf.set_text_color(255, 255, 255)
        pdf.cell(6, 6, str(number), align="C", fill=True)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, "", 10.5)
        pdf.set_xy(LEFT + 9, top + 0.5)
        pdf.multi_cell(WIDTH - 9, 5, step, align=start(pdf), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), top + 6))
