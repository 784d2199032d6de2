"""Activation letters: one A4 page per household with budgets, activation code and QR code."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import qrcode
from babel import dates as babel_dates
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from qrcode.constants import ERROR_CORRECT_M

from kindpakket.money import format_euro as euro_text

FONT_DIR = Path(__file__).parent.parent / "fonts"
FONT = "DejaVu"
LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")  # kindpakket.i18n.FAMILY_LANGUAGES
RTL = frozenset({"ar"})  # shaped right to left (fpdf2 text shaping with uharfbuzz)
LEFT = 20.0  # mm; DIN 5008 left margin, also the left edge of the envelope window
WIDTH = 170.0  # mm of text width on A4 (210 - 2 x 20)
GREY = (90, 90, 90)
BOX_FILL = (238, 244, 250)
BOX_LINE = (40, 90, 150)


@dataclass(frozen=True)
class LetterTexts:
    """The fixed wording of a letter in one language (:mod:`admin.letter_texts` makes it)."""

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

    household_ref: str
    parent_name: str
    address: str  # street and number; several lines may be separated by newlines
    postcode: str
    city: str
    activation_code: str
    activation_url: str
    children: list[LetterChild]
    fund_name: str
    period_start: date
    period_end: date
    municipality_name: str


def format_euro(cents: int, language: str = "nl") -> str:
    """Format integer cents as euros: "€ 1.234,50" (nl) or "€1,234.50" (en)."""
    _check_language(language)
    return euro_text(cents, language)


def format_date(day: date, language: str = "nl") -> str:
    """Format a date in words: "1 januari 2025" (nl) or "1 January 2025" (en)."""
    _check_language(language)
    return babel_dates.format_date(day, "d MMMM y", locale=language)


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
    letters: Iterable[Letter], texts: LetterTexts, *, letter_date: date | None = None
) -> bytes:
    """Render one A4 page per household in the language of ``texts``; return the PDF bytes."""
    return render_pages(((letter, texts) for letter in letters), texts.language, letter_date)


def render_pages(
    pages: Iterable[tuple[Letter, LetterTexts]],
    document_language: str,
    letter_date: date | None = None,
) -> bytes:
    """Render one A4 page per (letter, wording): each household in its own language.

    ``document_language`` is the PDF's declared language (the run's default).
    """
    _check_language(document_language)
    day = letter_date or date.today()
    pdf = _new_pdf(document_language, day)
    for letter, texts in pages:
        _check_language(texts.language)
        if texts.language in RTL:
            _shape_rtl(pdf)
        else:
            pdf.set_text_shaping(False)
        _render_page(pdf, letter, texts, day)
    if pdf.page == 0:
        raise ValueError("render_letters needs at least one letter")
    return bytes(pdf.output())


def _shape_rtl(pdf: FPDF) -> None:
    """Shape Arabic text right to left (joined letters; needs uharfbuzz)."""
    pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language="ara")


def _start(pdf: FPDF) -> str:
    """Return the alignment of running text: right for right-to-left letters, else left."""
    return "R" if pdf.text_shaping else "L"


def _check_language(language: str) -> None:
    """Refuse a language we have no texts for."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; choose one of {LANGUAGES}")


def _new_pdf(language: str, day: date) -> FPDF:
    """Create an A4 document with the embedded DejaVu fonts and no automatic page breaks."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(LEFT, 15, LEFT)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_lang(language)
    pdf.set_creation_date(datetime(day.year, day.month, day.day))
    return pdf


def _render_page(pdf: FPDF, letter: Letter, text: LetterTexts, day: date) -> None:
    """Draw one household's letter on a fresh page."""
    language = text.language
    pdf.add_page()
    _sender(pdf, letter)
    _address_window(pdf, letter)
    _reference_block(pdf, letter, text, format_date(day, language))
    pdf.set_xy(LEFT, 96)
    _write(pdf, text.title.format(fund=letter.fund_name), size=15, bold=True, height=7)
    pdf.ln(2)
    _write(pdf, text.greeting.format(parent=letter.parent_name), height=5.2)
    pdf.ln(1)
    _write(pdf, text.intro.format(municipality=letter.municipality_name), height=5.2)
    pdf.ln(2)
    _children_table(pdf, letter.children, text, language)
    pdf.ln(2)
    period = text.period.format(
        start=format_date(letter.period_start, language),
        end=format_date(letter.period_end, language),
    )
    _write(pdf, period, height=5.2)
    pdf.ln(3)
    _activation_box(pdf, letter, text)
    _steps(pdf, text)
    pdf.ln(2)
    _write(pdf, text.keep.format(municipality=letter.municipality_name), size=9, height=4.5)
    _footer(pdf, letter, text)


def _write(
    pdf: FPDF, text: str, *, size: float = 10.5, bold: bool = False, height: float = 5.0
) -> None:
    """Write a wrapped paragraph over the full text width."""
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_x(LEFT)
    align = _start(pdf)
    pdf.multi_cell(WIDTH, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _sender(pdf: FPDF, letter: Letter) -> None:
    """Print the municipality as sender at the top of the page."""
    pdf.set_xy(LEFT, 18)
    pdf.set_font(FONT, "B", 16)
    pdf.set_text_color(*BOX_LINE)
    pdf.cell(WIDTH, 8, letter.municipality_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.set_text_color(*GREY)
    pdf.cell(WIDTH, 5, letter.fund_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _address_window(pdf: FPDF, letter: Letter) -> None:
    """Print return address and recipient in the window area (20 mm left, 45-90 mm down)."""
    pdf.set_xy(LEFT, 50)
    pdf.set_font(FONT, "", 7)
    pdf.set_text_color(*GREY)
    pdf.cell(85, 4, letter.municipality_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    lines = [letter.parent_name, *letter.address.splitlines()]
    lines.append(f"{letter.postcode}  {letter.city.upper()}")
    pdf.set_xy(LEFT, 60)
    pdf.set_font(FONT, "", 11)
    shaped = bool(pdf.text_shaping)
    pdf.set_text_shaping(False)  # a Dutch postal address reads left to right in every letter
    for line in lines:
        pdf.set_x(LEFT)
        pdf.cell(85, 5.5, _fit(pdf, line.strip(), 85), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if shaped:
        _shape_rtl(pdf)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Shorten text with an ellipsis until it fits the width in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _reference_block(pdf: FPDF, letter: Letter, text: LetterTexts, when: str) -> None:
    """Print date and household reference to the right of the address window."""
    rows = ((text.date, when), (text.reference, letter.household_ref))
    pdf.set_xy(125, 60)
    for label, value in rows:
        pdf.set_x(125)
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*GREY)
        pdf.cell(65, 4, label, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 10)
        pdf.set_text_color(0, 0, 0)
        pdf.cell(65, 5, value, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.ln(2)


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
        pdf.cell(col_width * 0.6, 6, _fit(pdf, child.first_name, col_width * 0.6 - 2))
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
    pdf.cell(inner, 13, _fit(pdf, code, inner), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(LEFT + 6, pdf.get_y() + 1)
    pdf.set_font(FONT, "", 9)
    pdf.cell(inner, 5, text.code_hint, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 9)
    pdf.multi_cell(inner, 4.5, letter.activation_url, align="L", wrapmode=WrapMode.CHAR)
    pdf.set_xy(LEFT, top + height + 4)


def _steps(pdf: FPDF, text: LetterTexts) -> None:
    """Print the numbered how-to-pay steps."""
    _write(pdf, text.steps_title, size=12, bold=True, height=7)
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
        step_align = _start(pdf)
        pdf.multi_cell(WIDTH - 9, 5, step, align=step_align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), top + 6))


def _footer(pdf: FPDF, letter: Letter, text: LetterTexts) -> None:
    """Print sender, fund and reference in small type at the bottom of the page."""
    pdf.set_xy(LEFT, 287)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(*GREY)
    parts = (
        letter.municipality_name,
        letter.fund_name,
        f"{text.reference} {letter.household_ref}",
    )
    pdf.cell(WIDTH, 4, "  ·  ".join(parts), align="C")
    pdf.set_text_color(0, 0, 0)
