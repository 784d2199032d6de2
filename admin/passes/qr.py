"""QR matrices of pass codes, fast: version 3, level M, mask 0, one Reed-Solomon block.

The ``qrcode`` library builds the bit stream bit by bit and computes the error correction
with polynomial objects (together about a millisecond per code); printing 20 000 passes
needs that faster. Here the codewords come from integer arithmetic and a table-driven
Reed-Solomon LFSR, and the library does the rest (placement, masking, format bits).
``tests/admin/test_passprint.py`` checks the matrices equal the library's own.
"""

from __future__ import annotations

from qrcode import LUT, QRCode, util
from qrcode.base import rs_blocks
from qrcode.constants import ERROR_CORRECT_M

VERSION = 3
MASK = 0
_BLOCKS = rs_blocks(VERSION, ERROR_CORRECT_M)
assert len(_BLOCKS) == 1  # version 3-M: one block of 70 codewords, 44 of them data
DATA_COUNT = _BLOCKS[0].data_count
EC_COUNT = _BLOCKS[0].total_count - DATA_COUNT

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]
_GEN_LOG = [_LOG[c] for c in LUT.rsPoly_LUT[EC_COUNT][1:]]
# For each leading byte, what it XORs into the remainder (EC_COUNT bytes as one integer).
_STEP = [
    int.from_bytes(bytes(_EXP[g + _LOG[f]] if f else 0 for g in _GEN_LOG), "big")
    for f in range(256)
]
_SHIFT = 8 * (EC_COUNT - 1)
_KEEP = (1 << (8 * EC_COUNT)) - 1
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALNUM_VALUE = {ch: i for i, ch in enumerate(ALNUM)}


def _ec_bytes(data: list[int]) -> list[int]:
    """Return the Reed-Solomon remainder of ``data`` (the error-correction codewords)."""
    rem = 0
    for byte in data:
        rem = ((rem << 8) & _KEEP) ^ _STEP[byte ^ (rem >> _SHIFT)]
    return list(rem.to_bytes(EC_COUNT, "big"))


def _codewords(text: str) -> list[int]:
    """Return the 70 codewords of ``text`` as one alphanumeric segment, padded, with EC."""
    values = [_ALNUM_VALUE[ch] for ch in text]  # KeyError: not QR alphanumeric
    bits, length = 0b0010, 4  # mode: alphanumeric
    bits, length = (bits << 9) | len(values), length + 9  # character count (versions 1-9)
    for i in range(0, len(values) - 1, 2):
        bits, length = (bits << 11) | (values[i] * 45 + values[i + 1]), length + 11
    if len(values) % 2:
        bits, length = (bits << 6) | values[-1], length + 6
    limit = DATA_COUNT * 8
    if length > limit:
        raise ValueError("too long for a version 3 QR code")
    pad = min(limit - length, 4)  # terminator
    pad += (8 - (length + pad) % 8) % 8  # to a whole byte
    bits, length = bits << pad, length + pad
    data = list(bits.to_bytes(length // 8, "big"))
    data += [util.PAD0 if i % 2 == 0 else util.PAD1 for i in range(DATA_COUNT - len(data))]
    return data + _ec_bytes(data)


def matrix(text: str) -> list[list[bool]]:
    """Return the module matrix (29 x 29, True = dark, no quiet zone) of ``text``."""
    code = QRCode(version=VERSION, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=MASK)
    code.data_cache = _codewords(text)
    code.makeImpl(False, MASK)
    return code.get_matrix()  # type: ignore[no-any-return]


def reference_matrix(text: str) -> list[list[bool]]:
    """Return the library's own matrix of ``text`` (what :func:`matrix` must equal)."""
    code = QRCode(version=VERSION, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=MASK)
    code.add_data(text, optimize=0)
    code.make(fit=False)
    return code.get_matrix()  # type: ignore[no-any-return]
