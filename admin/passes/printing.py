"""Printing Kindpakket passes: ID-1 cards (85.60 x 53.98 mm) and separate PIN letters.

Two layouts of the same card: one card per page for a card printer, or ten per A4 sheet
with cut marks. A card shows the fund, the pass number and the QR code, never a child's
name. The QR code is drawn as filled rectangles (one per run of dark modules) straight into
the page's content stream: 20 000 cards take seconds instead of the minutes that one image
or one ``rect()`` call per module would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from fpdf import FPDF
from fpdf.enums import PDFResourceType, XPos, YPos

from admin.funds import paper
from admin.funds.paper import BOX_LINE, FONT, GREY, LEFT, WIDTH
from admin.passes import qr as passqr
from kindpakket.time import today as amsterdam_today
from wallet.passcode import format_number

CARD_W, CARD_H = 85.60, 53.98  # ISO/IEC 7810 ID-1
COLUMNS, ROWS = 2, 5  # cards per A4 sheet
SHEET_X = (210 - COLUMNS * CARD_W) / 2
SHEET_Y = (297 - ROWS * CARD_H) / 2
MARK = 4.0  # mm of each cut mark, outside the cards
QR_MODULE = 0.85  # mm per module: 24.7 mm of code, 3.4 mm quiet zone each side
LAYOUTS = ("card", "a4")


@dataclass(frozen=True)
class PassTexts:
    """The fixed wording of a pass and its PIN letter in one language (``letter_texts``)."""

    language: str
    brand: str
    number: str
    how: str
    lost: str
    pin_title: str
    pin_intro: str
    pin_label: str
    pin_keep: str


@dataclass(frozen=True)
class Card:
    """What one printed pass shows."""

    number: str  # 12 digits
    code: str  # the QR text, KP2:...
    fund_name: str
    language: str | None = None  # the household's own language, when the import named one


@dataclass(frozen=True)
class PinLetter:
    """A PIN letter: the household's address and its PIN (printed once, never stored)."""

    to: paper.Addressee
    pin: str


def render_cards(
    cards: Iterable[Card],
    wording: Callable[[str], PassTexts],
    *,
    layout: str = "a4",
    language: str = "nl",
    day: date | None = None,
) -> bytes:
    """Return a PDF of the cards: ``card`` one per ID-1 page, ``a4`` ten per sheet.

    Each card speaks its household's language, else ``language``.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose card or a4")
    day = day or amsterdam_today()
    if layout == "card":
        pdf = paper.new_pdf(language, day, (CARD_W, CARD_H), margin=0)
        pdf.set_display_mode("fullpage")
    else:
        pdf = paper.new_pdf(language, day, "A4", margin=0)
    words = functools.cache(wording)
    per_sheet = COLUMNS * ROWS
    statics: dict[Any, Any] = {}
    spoken, count = "", 0
    for count, card in enumerate(cards, start=1):
        own = paper.own_language(card.language, language)
        if own != spoken:
            paper.speak(pdf, own)
            spoken = own
        if layout == "card":
            pdf.add_page(orientation="landscape" if CARD_W < CARD_H else "portrait")
            _card(pdf, card, 0.0, 0.0, words(own), statics)
            continue
        slot = (count - 1) % per_sheet
        if slot == 0:
            pdf.add_page()
            _cut_marks(pdf)
        col, row = slot % COLUMNS, slot // COLUMNS
        _card(pdf, card, SHEET_X + col * CARD_W, SHEET_Y + row * CARD_H, words(own), statics)
    if count == 0:
        raise ValueError("no passes to print")
    return bytes(pdf.output())


def _card(
    pdf: FPDF, card: Card, x: float, y: float, text: PassTexts, statics: dict[Any, Any]
) -> None:
    """Draw one card with its top-left corner at (x, y) mm.

    What every card of a fund shows alike in one language is drawn once and its
    content-stream operators replayed, moved into place, for the other cards (``statics``
    holds them per document).
    """
    page = cast(bytearray, pdf.pages[pdf.page].contents)  # fpdf2 keeps a bytearray
    cached = statics.get((card.fund_name, text))
    if cached is None:
        pdf._out("q")
        before = len(page)
        _card_static(pdf, card.fund_name, x, y, text, statics)
        statics[(card.fund_name, text)] = (bytes(page[before:]), x, y)
        pdf._out("Q")
    else:
        ops, x0, y0 = cached
        k = pdf.k
        move = f"q 1 0 0 1 {(x - x0) * k:.2f} {(y0 - y) * k:.2f} cm\n".encode()
        pdf._out(move + ops + b"Q")
        for font in pdf.fonts.values():  # the replayed text uses the fonts on this page too
            pdf._resource_catalog.add(PDFResourceType.FONT, font.i, pdf.page)
    # The PDF state was restored by Q; make fpdf2 set the font again before the next text.
    pdf.font_family = ""
    pdf.current_font_is_set_on_page = False
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "B", 11)
    pdf.set_xy(x + 4, y + 22)
    align = paper.start(pdf)
    with paper.left_to_right(pdf):
        pdf.cell(46, 6, format_number(card.number), align=align)
    _qr(pdf, card.code, x + CARD_W - 4 - 29 * QR_MODULE, y + 13.5)


def _card_static(
    pdf: FPDF, fund_name: str, x: float, y: float, text: PassTexts, statics: dict[Any, Any]
) -> None:
    """Draw what every card of the fund shows alike: band, brand, fund, labels, how-to."""
    align = paper.start(pdf)
    pdf.set_fill_color(*BOX_LINE)
    pdf.rect(x, y, CARD_W, 9, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FONT, "B", 11)
    pdf.set_xy(x + 4, y + 1.5)
    pdf.cell(CARD_W - 8, 6, text.brand, align=align)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 8)
    pdf.set_xy(x + 4, y + 11)
    pdf.cell(46, 4, paper.fit(pdf, fund_name, 46), align=align)
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, "", 7)
    pdf.set_xy(x + 4, y + 18)
    pdf.cell(46, 4, text.number, align=align)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 6.5)
    key = ("lines", text.how, text.lost)
    if key not in statics:  # wrapped once per document and language: multi_cell is slow
        statics[key] = [
            str(line)
            for part in (text.how, text.lost)
            for line in cast(list[str], pdf.multi_cell(47, 3.2, part, dry_run=True, output="LINES"))
        ]
    for i, line in enumerate(statics[key]):
        pdf.set_xy(x + 4, y + 31 + i * 3.2)
        pdf.cell(47, 3.2, line, align=align)
    pdf.set_fill_color(0)


def _qr(pdf: FPDF, data: str, x: float, y: float) -> float:
    """Draw the QR code of ``data`` with its top-left module at (x, y) mm; return its side."""
    matrix: Sequence[Sequence[bool]] = passqr.matrix(data)
    k, page_h, m = pdf.k, pdf.h, QR_MODULE
    ops: list[str] = ["q 0 g"]
    for r, line in enumerate(matrix):
        top = (page_h - (y + r * m)) * k
        c, size = 0, len(line)
        while c < size:
            if not line[c]:
                c += 1
                continue
            start = c
            while c < size and line[c]:
                c += 1
            ops.append(
                f"{(x + start * m) * k:.2f} {top:.2f} {(c - start) * m * k:.2f} {-m * k:.2f} re"
            )
    ops.append("f Q")
    # fpdf2 has no public call for raw operators; _out appends to the page's content stream.
    pdf._out("\n".join(ops))
    return len(matrix) * m


def _cut_marks(pdf: FPDF) -> None:
    """Draw cut marks at every card edge, outside the block of cards."""
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    right, bottom = SHEET_X + COLUMNS * CARD_W, SHEET_Y + ROWS * CARD_H
    for col in range(COLUMNS + 1):
        x = SHEET_X + col * CARD_W
        pdf.line(x, SHEET_Y - 1 - MARK, x, SHEET_Y - 1)
        pdf.line(x, bottom + 1, x, bottom + 1 + MARK)
    for row in range(ROWS + 1):
        y = SHEET_Y + row * CARD_H
        pdf.line(SHEET_X - 1 - MARK, y, SHEET_X - 1, y)
        pdf.line(right + 1, y, right + 1 + MARK, y)


def render_pin_letters(
    letters: Iterable[PinLetter],
    wording: Callable[[str], PassTexts],
    *,
    language: str = "nl",
    day: date | None = None,
) -> bytes:
    """Return a PDF with one A4 PIN letter per household (sent apart from the pass).

    Each letter speaks its household's language, else ``language``.
    """
    return paper.render_each(letters, wording, _pin_page, language=language, day=day)


def _pin_page(pdf: FPDF, letter: PinLetter, text: PassTexts, day: date) -> None:
    """Draw one household's PIN letter on a fresh page."""
    to, align = letter.to, paper.start(pdf)
    paper.sender(pdf, to, fund=False)
    paper.address_window(pdf, to)
    pdf.set_xy(LEFT, 100)
    pdf.set_font(FONT, "B", 15)
    pdf.cell(WIDTH, 8, text.pin_title, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    paper.write(pdf, text.pin_intro.format(fund=to.fund_name), height=5.2)
    pdf.set_xy(LEFT, pdf.get_y() + 6)
    pdf.set_font(FONT, "", 10)
    pdf.cell(WIDTH, 5, text.pin_label, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(LEFT)
    pdf.set_font(FONT, "B", 28)
    with paper.left_to_right(pdf):  # the digits in their order, in an Arabic letter too
        pin = " ".join(letter.pin)
        pdf.cell(WIDTH, 14, pin, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(pdf.get_y() + 6)
    paper.write(pdf, text.pin_keep.format(municipality=to.municipality_name), height=5.2)
