"""Account names: one module builds and parses them, and nothing else writes them by hand."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kindpakket.accounts import (
    AccountName,
    AccountNameError,
    bank_account,
    fund_account,
    maybe_account,
    parse_account,
    payable_account,
    payable_like,
    voucher_account,
    voucher_ids,
)

ROOT = Path(__file__).resolve().parents[2]
ids = st.integers(min_value=0, max_value=10**18)


def test_names_are_the_documented_ones() -> None:
    assert fund_account(3) == "fund:3"
    assert bank_account(3) == "bank:3"
    assert voucher_account(17) == "voucher:17"
    assert payable_account(9, 3) == "merchant:9:payable:3"


@given(ids, ids)
def test_every_built_name_parses_back_to_its_ids(a: int, b: int) -> None:
    assert parse_account(fund_account(a)) == AccountName("fund", a)
    assert parse_account(bank_account(a)) == AccountName("bank", a)
    assert parse_account(voucher_account(a)) == AccountName("voucher", a)
    payable = parse_account(payable_account(a, b))
    assert (payable.kind, payable.shop_id, payable.fund_id) == ("payable", a, b)
    assert str(payable) == payable_account(a, b)


def test_the_parsed_value_says_which_fund_or_voucher() -> None:
    assert parse_account("fund:4").fund_id == 4
    assert parse_account("bank:4").voucher_id is None
    assert parse_account("voucher:8").fund_id is None  # a voucher's fund needs a look-up
    assert parse_account("voucher:8").voucher_id == 8


@pytest.mark.parametrize(
    "name",
    [
        "",
        "voucher",
        "voucher:",
        "voucher:-1",
        "voucher:+1",
        "voucher:007",
        "voucher: 7",
        "voucher:7 ",
        "voucher:7\n",
        "voucher:٣",  # an Arabic-Indic digit is a digit to Python, not to us
        "voucher:1.5",
        "Voucher:1",
        "shop:1",
        "fund:1:2",
        "merchant:1:payable",
        "merchant:1:payable:",
        "merchant::payable:1",
        "merchant:1:payable:1:extra",
        "merchant:x:payable:1",
        "merchant:1:owed:1",
    ],
)
def test_anything_malformed_is_refused(name: str) -> None:
    with pytest.raises(AccountNameError):
        parse_account(name)
    assert maybe_account(name) is None


@pytest.mark.parametrize("bad", [-1, True, None, "3", 1.0])
def test_builders_refuse_what_is_not_an_id(bad: object) -> None:
    for build in (fund_account, bank_account, voucher_account):
        with pytest.raises(AccountNameError):
            build(bad)  # type: ignore[arg-type]
    with pytest.raises(AccountNameError):
        payable_account(1, bad)  # type: ignore[arg-type]
    if bad is not None:  # None is the wildcard there
        with pytest.raises(AccountNameError):
            payable_like(shop_id=bad)  # type: ignore[arg-type]


def test_lists_of_names_skip_what_is_not_ours() -> None:
    names = ["voucher:2", "fund:1", "merchant:3:payable:1", "voucher:x", "other", "voucher:5"]
    assert voucher_ids(names) == [2, 5]


def test_like_patterns_cover_their_accounts() -> None:
    assert payable_like(fund_id=3) == "merchant:%:payable:3"
    assert payable_like(shop_id=9) == "merchant:9:payable:%"


# A string that spells an account name: a kind, a colon, then an id, a placeholder, a
# wildcard, a regex group or the string's end; or anything with ":payable".
_HAND_WRITTEN = re.compile(r"\b(?:voucher|fund|bank|merchant)\)?:(?:[0-9{%(\"']|\\d)|:payable\b")
_SOURCES = ("kindpakket", "wallet", "merchant", "admin", "bench")


def _hand_written_names(path: Path) -> list[str]:
    """Return ``line: string`` for each string literal in ``path`` that spells an account name.

    Docstrings may show the names. Audit subjects (``subject=f"fund:{fund.id}"``) share the
    spelling but name a record, not an account, so a string passed as ``subject=`` is not
    counted.
    """
    source = path.read_text()
    tree = ast.parse(source)
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "subject":
            skipped.update(id(n) for n in ast.walk(node.value))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skipped.add(id(node.value))  # a docstring
        elif isinstance(node, ast.JoinedStr):
            skipped.update(id(n) for n in node.values)  # judged whole, below
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, ast.Constant | ast.JoinedStr):
            continue
        if isinstance(node, ast.Constant) and not isinstance(node.value, str):
            continue
        text = ast.get_source_segment(source, node) or ""
        if _HAND_WRITTEN.search(text):
            found.append(f"{node.lineno}: {text}")
    return sorted(found, key=lambda hit: int(hit.split(":")[0]))


def test_the_grep_sees_the_forms_it_forbids(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'a = f"voucher:{v}"\nb = "fund:1"\nc = like("merchant:%:payable:%")\n'
        'd = re.compile(r"^(?:fund|bank):(\\d+)$")\ne = f"merchant:{s}:payable:"\n'
        'record(subject=f"fund:{f}")\nf = "voucher.expiry:{i}"\n'
        '"""Docstring: voucher:{id}."""\ng = literal("voucher:")\n'
    )
    assert [line.split(":")[0] for line in _hand_written_names(sample)] == list("123459")


def test_no_account_name_is_written_by_hand_outside_the_accounts_module() -> None:
    offenders = []
    for package in _SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or path == ROOT / "kindpakket" / "accounts.py":
                continue
            # bench/ measures the bare ledger too; there any string is a fine account name.
            if package == "bench" and not _imports_actor_models(path):
                continue
            offenders += [f"{path.relative_to(ROOT)}:{hit}" for hit in _hand_written_names(path)]
    assert offenders == [], "build account names with kindpakket.accounts"


def _imports_actor_models(path: Path) -> bool:
    return bool(re.search(r"^from (?:wallet|merchant|admin)\b", path.read_text(), re.M))
