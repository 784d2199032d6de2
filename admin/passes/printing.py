"""Printing Kindpakket passes: ID-1 cards (85.60 x 53.98 mm) and separate PIN letters.

Two layouts of the same card: one card per page for a card printer, or ten per A4 sheet
with cut marks. A card shows the fund, the pass number and the QR code, never a child's
name. The QR code is drawn as filled rectangles (one per run of dark modules) straight into
the page's content stream: 20 000 cards take seconds instead of the minutes that one image
or one ``rect()`` call per module would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from fpdf import FPDF
from fpdf.enums import PDFResourceType, XPos, YPos

from admin.funds.letters import BOX_LINE, FONT, FONT_DIR, GREY, LEFT, WIDTH, _address_window, _fit
from admin.funds.letters import Letter as _Letter
from admin.passes import qr as passqr
from wallet.passcode import format_number

CARD_W, CARD_H = 85.60, 53.98  # ISO/IEC 7810 ID-1
COLUMNS, ROWS = 2, 5  # cards per A4 sheet
SHEET_X = (210 - COLUMNS * CARD_W) / 2
SHEET_Y = (297 - ROWS * CARD_H) / 2
MARK = 4.0  # mm of each cut mark, outside the cards
QR_MODULE = 0.85  # mm per module: 24.7 mm of code, 3.4 mm quiet zone each side
LAYOUTS = ("card", "a4")

_TEXT = {
    "nl": {
        "brand": "Kindpakketpas",
        "number": "Pasnummer",
        "how": "Betalen: laat de winkel de QR-code scannen en typ uw pincode.",
        "lost": "Kwijt? Blokkeer de pas in de app of bel de gemeente.",
        "pin_title": "Uw pincode voor de Kindpakketpas",
        "pin_intro": (
            "Met deze pincode betaalt u met uw Kindpakketpas ({fund}). U krijgt de pas "
            "apart. In de winkel scant de winkel de pas, en typt u de pincode op het "
            "scherm van de winkel."
        ),
        "pin_label": "Uw pincode",
        "pin_keep": (
            "Vertel de pincode aan niemand en bewaar hem niet bij de pas. Na 3 keer een "
            "verkeerde pincode wordt de pas geblokkeerd: bel dan {municipality}. Pincode "
            "vergeten? {municipality} stuurt u een nieuwe."
        ),
    },
    "en": {
        "brand": "Kindpakket pass",
        "number": "Pass number",
        "how": "To pay: let the shop scan the QR code and type your PIN.",
        "lost": "Lost it? Block the pass in the app or call the municipality.",
        "pin_title": "Your PIN for the Kindpakket pass",
        "pin_intro": (
            "With this PIN you pay with your Kindpakket pass ({fund}). The pass comes "
            "separately. In the shop, the shop scans the pass and you type the PIN on the "
            "shop's screen."
        ),
        "pin_label": "Your PIN",
        "pin_keep": (
            "Tell nobody the PIN and do not keep it with the pass. After 3 wrong PINs the "
            "pass is blocked: then call {municipality}. Forgot the PIN? {municipality} "
            "sends you a new one."
        ),
    },
}


@dataclass(frozen=True)
class Card:
    """What one printed pass shows."""

    number: str  # 12 digits
    code: str  # the QR text, KP2:...
    fund_name: str


@dataclass(frozen=True)
class PinLetter:
    """A PIN letter: the household's address and its PIN (printed once, never stored)."""

    household_ref: str
    parent_name: str
    address: str
    postcode: str
    city: str
    pin: str
    fund_name: str
    municipality_name: str


def _pdf(language: str, day: date, fmt: str | tuple[float, float]) -> FPDF:
    if language not in _TEXT:
        raise ValueError(f"unsupported language {language!r}; choose nl or en")
    pdf = FPDF(orientation="portrait", unit="mm", format=fmt)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_lang(language)
    pdf.set_creation_date(datetime(day.year, day.month, day.day))
    return pdf


def render_cards(
    cards: Iterable[Card], *, layout: str = "a4", language: str = "nl", day: date | None = None
) -> bytes:
    """Return a PDF of the cards: ``card`` one per ID-1 page, ``a4`` ten per sheet."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose card or a4")
    day = day or date.today()
    if layout == "card":
        pdf = _pdf(language, day, (CARD_W, CARD_H))
        pdf.set_display_mode("fullpage")
    else:
        pdf = _pdf(language, day, "A4")
    per_sheet = COLUMNS * ROWS
    statics: dict[str, Any] = {}
    count = 0
    for count, card in enumerate(cards, start=1):
        if layout == "card":
            pdf.add_page(orientation="landscape" if CARD_W < CARD_H else "portrait")
            _card(pdf, card, 0.0, 0.0, language, statics)
            continue
        slot = (count - 1) % per_sheet
        if slot == 0:
            pdf.add_page()
            _cut_marks(pdf)
        col, row = slot % COLUMNS, slot // COLUMNS
        _card(pdf, card, SHEET_X + col * CARD_W, SHEET_Y + row * CARD_H, language, statics)
    if count == 0:
        raise ValueError("no passes to print")
    return bytes(pdf.output())


def _card(
    pdf: FPDF, card: Card, x: float, y: float, language: str, statics: dict[str, Any]
) -> None:
    """Draw one card with its top-left corner at (x, y) mm.

    What every card of a fund shows alike is drawn once and its content-stream operators
    replayed, moved into place, for the other cards (``statics`` holds them per document).
    """
    page = cast(bytearray, pdf.pages[pdf.page].contents)  # fpdf2 keeps a bytearray
    cached = statics.get(card.fund_name)
    if cached is None:
        pdf._out("q")
        before = len(page)
        _card_static(pdf, card.fund_name, x, y, language)
        statics[card.fund_name] = (bytes(page[before:]), x, y)
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
    pdf.cell(50, 6, format_number(card.number))
    _qr(pdf, card.code, x + CARD_W - 4 - 29 * QR_MODULE, y + 13.5)


def _card_static(pdf: FPDF, fund_name: str, x: float, y: float, language: str) -> None:
    """Draw what every card of the fund shows alike: band, brand, fund, labels, how-to."""
    text = _TEXT[language]
    pdf.set_fill_color(*BOX_LINE)
    pdf.rect(x, y, CARD_W, 9, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FONT, "B", 11)
    pdf.set_xy(x + 4, y + 1.5)
    pdf.cell(CARD_W - 8, 6, text["brand"])
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 8)
    pdf.set_xy(x + 4, y + 11)
    pdf.cell(46, 4, _fit(pdf, fund_name, 46))
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, "", 7)
    pdf.set_xy(x + 4, y + 18)
    pdf.cell(46, 4, text["number"])
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 6.5)
    for i, line in enumerate(_wrapped(pdf, language)):
        pdf.set_xy(x + 4, y + 31 + i * 3.2)
        pdf.cell(47, 3.2, line)
    pdf.set_fill_color(0)


_WRAPPED: dict[str, list[str]] = {}


def _wrapped(pdf: FPDF, language: str) -> list[str]:
    """Return the card's fixed how-to text in lines (wrapped once: multi_cell is slow)."""
    if language not in _WRAPPED:
        text = _TEXT[language]
        _WRAPPED[language] = [
            str(line)
            for part in (text["how"], text["lost"])
            for line in cast(list[str], pdf.multi_cell(47, 3.2, part, dry_run=True, output="LINES"))
        ]
    return _WRAPPED[language]


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
    letters: Iterable[PinLetter], *, language: str = "nl", day: date | None = None
) -> bytes:
    """Return a PDF with one A4 PIN letter per household (sent apart from the pass)."""
    day = day or date.today()
    pdf = _pdf(language, day, "A4")
    text = _TEXT[language]
    for letter in letters:
        pdf.add_page()
        pdf.set_xy(LEFT, 18)
        pdf.set_font(FONT, "B", 16)
        pdf.set_text_color(*BOX_LINE)
        pdf.cell(WIDTH, 8, letter.municipality_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        _address_window(pdf, _as_letter(letter))
        pdf.set_xy(LEFT, 100)
        pdf.set_font(FONT, "B", 15)
        pdf.cell(WIDTH, 8, text["pin_title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 10.5)
        pdf.set_x(LEFT)
        pdf.multi_cell(WIDTH, 5.2, text["pin_intro"].format(fund=letter.fund_name))
        pdf.set_xy(LEFT, pdf.get_y() + 6)
        pdf.set_font(FONT, "", 10)
        pdf.cell(WIDTH, 5, text["pin_label"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(LEFT)
        pdf.set_font(FONT, "B", 28)
        pdf.cell(WIDTH, 14, " ".join(letter.pin), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_xy(LEFT, pdf.get_y() + 6)
        pdf.set_font(FONT, "", 10.5)
        keep = text["pin_keep"].format(municipality=letter.municipality_name)
        pdf.multi_cell(WIDTH, 5.2, keep)
    if pdf.page == 0:
        raise ValueError("no PIN letters to print")
    return bytes(pdf.output())


def _as_letter(letter: PinLetter) -> _Letter:
    """Adapt a PIN letter to the activation letter's address block."""
    return _Letter(
        household_ref=letter.household_ref,
        parent_name=letter.parent_name,
        address=letter.address,
        postcode=letter.postcode,
        city=letter.city,
        activation_code="",
        activation_url="",
        children=[],
        fund_name=letter.fund_name,
        period_start=date.today(),
        period_end=date.today(),
        municipality_name=letter.municipality_name,
    )
