"""Payments and refunds: row lock, idempotency key, unique nonce, fixed refusal codes.

After pretix's check-in service: lock the voucher, re-check everything on the server, append
one ledger entry, store the redemption with the token's nonce (UNIQUE is the backstop), and
keep every refusal with its code. A repeated idempotency key returns the first result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kindpakket.accounts import voucher_account
from kindpakket.errors import DomainError
from kindpakket.i18n import current_language
from kindpakket.keys import Keyring
from kindpakket.money import MAX_CENTS, format_euro
from kindpakket.time import local_day
from ledger import store
from ledger.bulk import bind_value
from ledger.encoding import receipt_text
from ledger.errors import InsufficientBalance, UnknownAccount
from ledger.models import LedgerAccount, LedgerPosting
from merchant import auth, notify, passpay
from merchant.models import (
    Redemption,
    Shop,
    ShopApproval,
    ShopUser,
    payable_account,
)
from merchant.refusals import MESSAGES, Refused, refusal
from wallet import services as wallet
from wallet.models import Child, Fund, Voucher
from wallet.payments import verify_token_text

MAX_KEY = 80


@dataclass(frozen=True)
class Payment:
    """A redemption as the shop sees it: no child, no household."""

    id: int
    receipt_number: str
    amount_cents: int
    refunded_cents: int
    ledger_seq: int
    entry_hash: str
    created_at: datetime
    balance_cents: int | None  # only when the fund shows balances to shops
    replayed: bool = False


def receipt_number(prefix: str, seq: int) -> str:
    """Return the receipt number of ledger entry ``seq`` ("B-000123" payment, "R-" refund)."""
    return receipt_text(prefix, seq)


# -- payments --------------------------------------------------------------------------------


def redeem(
    session: Session,
    *,
    cashier: ShopUser,
    amount_cents: int,
    idempotency_key: str,
    keyring: Keyring,
    token: str | None = None,
    code: str | None = None,
    now: datetime | None = None,
    skew: int = 5,
    pin: str | None = None,
    commit: bool = False,
) -> Payment:
    """Pay ``amount_cents`` from the voucher behind a token (or typed code) to the shop.

    Raises ``Refused`` with a fixed code; the caller records it with
    :func:`merchant.refusals.record_refusal`. With ``commit`` the payment ends the unit of
    work: on PostgreSQL the COMMIT goes with the ledger append's last round trip (the
    caller's later commit then sends nothing).
    """
    now = now or datetime.now(UTC)
    state: dict[str, int] = {}
    try:
        return _redeem(
            session,
            state,
            cashier,
            amount_cents,
            idempotency_key,
            keyring,
            token,
            code,
            now,
            skew,
            pin,
            commit,
        )
    except (Refused, auth.LoginEnded):
        raise
    except DomainError as err:  # from the wallet's token checks: our own, plainer message
        message = MESSAGES.get(err.code, err.message)
        raised = Refused(err.code, message, **err.details)
        raised.voucher_id = state.get("voucher_id")
        raise raised from None


def _redeem(
    session: Session,
    state: dict[str, int],
    cashier: ShopUser,
    amount: int,
    key: str,
    keyring: Keyring,
    token: str | None,
    code: str | None,
    now: datetime,
    skew: int,
    pin: str | None = None,
    commit: bool = False,
) -> Payment:
    _check_cashier(cashier)
    key = _check_key(key)
    try:
        nonce, voucher_id = _resolve(session, token, code, now, keyring, skew, pin)
    except DomainError:
        # A repeat of an answered request returns the first result, even though its token
        # is used or expired by now (to a login that still holds).
        if (first := _by_key(session, cashier.shop_id, key)) is not None:
            auth.confirm(session, cashier)
            return _replay(session, first, amount)
        raise  # the caller confirms the login before it records the refusal
    state["voucher_id"] = voucher_id
    # The voucher's row lock orders the payments of one voucher, and a twin of this request
    # (same token, so same voucher) queues on it: the check below sees the twin's payment.
    # The chain lock is taken only by the append, the last statement before the commit.
    scene = _lock(session, voucher_id, cashier)
    if (first := _seen(session, cashier.shop_id, key, nonce, voucher_id)) is not None:
        return _replay(session, first, amount)  # a twin of this request paid while we waited
    _check_voucher(scene)
    _check_fund(scene, now)
    _check_shop(scene)
    _check_amount(amount)
    return _book(session, scene, cashier, nonce, key, amount, now, commit)


class Scene(NamedTuple):
    """What a payment checks, read (and the voucher locked) in one query."""

    voucher_id: int
    voucher_status: str
    fund_id: int
    fund_status: str
    period_start: date
    period_end: date
    categories: list[str] | None
    show_balance_to_shop: bool
    shop_id: int
    shop_name: str
    shop_status: str
    shop_category: str
    approval: str | None  # the shop's approval status for this fund
    household_id: int
    choices: dict[str, bool] | None  # the household's notification choices (receipts)


def _check_cashier(cashier: ShopUser) -> None:
    if not cashier.active or cashier.role not in ("owner", "cashier"):
        raise refusal("not_a_cashier")


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not 8 <= len(key) <= MAX_KEY:
        raise refusal("bad_idempotency_key")
    return key


def _resolve(
    session: Session,
    token: str | None,
    code: str | None,
    now: datetime,
    keyring: Keyring,
    skew: int,
    pin: str | None = None,
) -> tuple[str, int]:
    """Return ``(nonce, voucher id)``; a scanned token is checked without the database."""
    if token and passpay.is_pass_code(token):  # a printed pass and its PIN (merchant.passpay)
        return passpay.resolve(session, token, pin, keyring)
    if token:
        payload = verify_token_text(token, now=now, keyring=keyring, skew=skew)
        return payload.nonce_hex, payload.voucher_id
    if code:
        try:
            nonce, voucher = wallet.resolve_payment_code(session, code, now=now, skew=skew)
        except DomainError as err:
            if err.code in _TYPED_CODE_REFUSALS:
                raise refusal("payment_code_invalid") from None
            raise
        return nonce, voucher.id
    raise refusal("missing_code")


# What a typed code's refusal may not tell apart (a signed token may: it proves it was real).
_TYPED_CODE_REFUSALS = frozenset({"payment_code_unknown", "token_expired", "token_used"})


_VOUCHER = Voucher.__table__.c
_FUND = Fund.__table__.c
_SHOP = Shop.__table__.c
_APPROVAL = ShopApproval.__table__.c
_CHILD = Child.__table__.c
_CASHIER = ShopUser.__table__.c
_REDEMPTIONS = Redemption.__table__
_SCENE = (
    select(
        _VOUCHER.id,
        _VOUCHER.status,
        _FUND.id,
        _FUND.status,
        _FUND.period_start,
        _FUND.period_end,
        _FUND.categories,
        _FUND.show_balance_to_shop,
        _SHOP.id,
        _SHOP.name,
        _SHOP.status,
        _SHOP.category,
        select(_APPROVAL.status)
        .where(_APPROVAL.shop_id == bindparam("shop_id"), _APPROVAL.fund_id == _VOUCHER.fund_id)
        .scalar_subquery(),
        _CHILD.household_id,
        notify.household_choices(_CHILD.household_id),
        _CASHIER.active,
        _CASHIER.role,
        _CASHIER.session_epoch,
        _CASHIER.shop_id,
    )
    .join_from(Voucher.__table__, Fund.__table__, _FUND.id == _VOUCHER.fund_id)
    .join(Child.__table__, _CHILD.id == _VOUCHER.child_id)
    .join(Shop.__table__, _SHOP.id == bindparam("shop_id"))
    .outerjoin(ShopUser.__table__, _CASHIER.id == bindparam("cashier_id"))
    .where(_VOUCHER.id == bindparam("voucher_id"))
    .with_for_update(of=Voucher.__table__)
)
_BY_KEY = select(_REDEMPTIONS).where(
    _REDEMPTIONS.c.shop_id == bindparam("shop_id"),
    _REDEMPTIONS.c.idempotency_key == bindparam("key"),
)
_SEEN = select(_REDEMPTIONS).where(
    or_(
        and_(
            _REDEMPTIONS.c.shop_id == bindparam("shop_id"),
            _REDEMPTIONS.c.idempotency_key == bindparam("key"),
        ),
        _REDEMPTIONS.c.nonce == bindparam("nonce"),
    )
)
# A redemption row's columns (kindpakket.seeding.bulk writes them too).
COLUMNS = (
    "shop_id",
    "fund_id",
    "voucher_id",
    "cashier_id",
    "amount_cents",
    "refunded_cents",
    "nonce",
    "idempotency_key",
    "receipt_number",
    "ledger_seq",
    "entry_hash",
    "created_at",
)


def _lock(session: Session, voucher_id: int, cashier: ShopUser) -> Scene:
    """Lock the voucher row and read it with its fund, the shop, the shop's approval and the
    cashier's login; refuse when the cashier's login no longer holds.

    PostgreSQL locks only the voucher row; on SQLite the write lock is already held. Core
    statements on the session's connection: this is the hot path of every payment, and the
    request's only check of its cashier's row (``merchant.auth.confirmed_in_unit_of_work``).
    """
    params = {"voucher_id": voucher_id, "shop_id": cashier.shop_id, "cashier_id": cashier.id}
    found = session.connection().execute(_SCENE, params).one_or_none()
    if found is None:  # the caller confirms the login before it records the refusal
        raise Refused("voucher_not_found", MESSAGES["voucher_not_found"])
    *scene, active, role, epoch, shop_id = found
    current = _CashierNow(active, role, epoch, shop_id) if active is not None else None
    auth.check_current(cashier, current)
    return Scene(*scene)


class _CashierNow(NamedTuple):
    active: bool
    role: str
    session_epoch: int
    shop_id: int


def _lock_voucher(session: Session, voucher_id: int) -> Voucher:
    """Lock the voucher row (PostgreSQL; SQLite's write lock is already held)."""
    return session.execute(
        select(Voucher)
        .where(Voucher.id == voucher_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _by_key(session: Session, shop_id: int, key: str) -> Row[Any] | None:
    """Return the payment this shop made with this idempotency key, if any."""
    return session.connection().execute(_BY_KEY, {"shop_id": shop_id, "key": key}).first()


def _seen(session: Session, shop_id: int, key: str, nonce: str, voucher_id: int) -> Row[Any] | None:
    """Return the first payment of this request's key; refuse a used nonce (one query)."""
    found = (
        session.connection().execute(_SEEN, {"shop_id": shop_id, "key": key, "nonce": nonce}).all()
    )
    for row in found:
        if row.shop_id == shop_id and row.idempotency_key == key:
            return row
    if found:
        raise refusal("token_used", voucher_id=voucher_id)
    return None


def _replay(session: Session, first: Row[Any], amount: int) -> Payment:
    """Return exactly the first answer of this key (the balance as it was right after it)."""
    if first.amount_cents != amount:
        raise refusal("idempotency_conflict", voucher_id=first.voucher_id)
    fund = session.get(Fund, first.fund_id)
    balance = None
    if fund is not None and fund.show_balance_to_shop:
        balance = _balance_after(session, voucher_account(first.voucher_id), first.ledger_seq)
    return _payment(first, balance, replayed=True)


def _balance_after(session: Session, account: str, seq: int) -> int:
    """Return the account's balance right after ledger entry ``seq``."""
    total = session.execute(
        select(func.coalesce(func.sum(LedgerPosting.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerAccount.name == account, LedgerPosting.seq <= seq)
    ).scalar_one()
    return int(total)


def _check_voucher(scene: Scene) -> None:
    if scene.voucher_status == "blocked":
        raise refusal("voucher_blocked", voucher_id=scene.voucher_id)
    if scene.voucher_status != "active":
        raise refusal("voucher_expired", voucher_id=scene.voucher_id)


def _check_fund(scene: Scene, now: datetime) -> None:
    today = local_day(now)  # "open today" is the municipality's today
    if scene.fund_status != "open" or not scene.period_start <= today <= scene.period_end:
        raise refusal("fund_closed")


def _check_shop(scene: Scene) -> None:
    if scene.shop_status == "suspended" or scene.approval == "suspended":
        raise refusal("shop_suspended")
    if scene.approval != "approved":
        raise refusal("merchant_not_approved")
    if scene.categories and scene.shop_category not in scene.categories:
        raise refusal("category_not_allowed")


def _check_amount(amount: int) -> None:
    if type(amount) is not int:
        raise refusal("invalid_amount")
    if amount <= 0:
        raise refusal("amount_not_positive")
    if amount > MAX_CENTS:
        raise refusal("amount_too_large")


def _book(
    session: Session,
    scene: Scene,
    cashier: ShopUser,
    nonce: str,
    key: str,
    amount: int,
    now: datetime,
    commit: bool = False,
) -> Payment:
    """Append the ledger entry and store the redemption, both under the chain lock, last.

    The receipt is numbered after the entry (``B-`` and its seq), which is known only under
    the chain lock: the ledger makes the entry's receipt there, and the redemption row takes
    seq, hash and receipt number from the chain head in the same round trip as the entry.
    The key and the nonce were checked under the voucher's row lock, which a twin request
    shares, so the UNIQUE constraints cannot fire here unless something is broken; if they
    do, the refusal makes the shell roll the whole unit of work back.
    """
    payable = payable_account(scene.shop_id, scene.fund_id)
    voucher = voucher_account(scene.voucher_id)
    meta = {
        "shop": scene.shop_id,
        "shop_name": scene.shop_name,
        "voucher": scene.voucher_id,
        "fund": scene.fund_id,
    }  # and "receipt": B- and the entry's seq, made under the chain lock
    created = now.astimezone(UTC)  # as the column reads it back on a replay
    values: dict[str, Any] = {
        "shop_id": scene.shop_id,
        "fund_id": scene.fund_id,
        "voucher_id": scene.voucher_id,
        "cashier_id": cashier.id,
        "amount_cents": amount,
        "refunded_cents": 0,
        "nonce": nonce,
        "idempotency_key": key,
        "receipt_number": store.RECEIPT,
        "ledger_seq": store.SEQ,
        "entry_hash": store.HASH,
        "created_at": bind_value(session.connection(), _REDEMPTIONS.c.created_at, created),
    }
    entry = store.NewEntry("redemption", [(voucher, -amount), (payable, amount)], meta, receipt="B")
    receipt_to = notify.receipt_to(session, scene.household_id, scene.choices)  # before the lock
    # Nothing is written after the entry unless a receipt is queued: then the append may
    # commit in its own last round trip (PostgreSQL), releasing the chain lock at once.
    last = receipt_to is None and commit
    if last:
        session.flush()  # the unit of work's pending changes go before the COMMIT
    along = ("redemptions", values)
    try:
        try:
            appended, row_id = store.append_with(session, entry, along, commit=last)
        except UnknownAccount:  # approval opens the payable account; older shops may lack it
            store.open_account(session, payable)
            appended, row_id = store.append_with(session, entry, along, commit=last)
    except InsufficientBalance as exc:
        raise _insufficient(scene, exc.balance) from None
    except IntegrityError:  # the UNIQUE(nonce) / UNIQUE(shop, key) backstop
        raise refusal("token_used", voucher_id=scene.voucher_id) from None
    paid = _Paid(
        **values
        | {
            "id": int(row_id),
            "receipt_number": receipt_number("B", appended.seq),
            "ledger_seq": appended.seq,
            "entry_hash": appended.hash,
            "created_at": created,
        }
    )
    balance = None
    if scene.show_balance_to_shop:
        balance = (appended.balances or {}).get(voucher)
        if balance is None:  # pragma: no cover - a fresh append always carries its balances
            balance = store.balance(session, voucher)
    if receipt_to is not None:  # receipts are off by default: one INSERT when on
        notify.queue_receipt(session, receipt_to, scene, amount, paid.receipt_number)
    return _payment(paid, balance)


class _Paid(NamedTuple):
    """A redemption row just inserted (the columns a Payment needs)."""

    id: int
    shop_id: int
    fund_id: int
    voucher_id: int
    cashier_id: int
    amount_cents: int
    refunded_cents: int
    nonce: str
    idempotency_key: str
    receipt_number: str
    ledger_seq: int
    entry_hash: str
    created_at: datetime


def _insufficient(scene: Scene, left: int) -> Refused:
    if not scene.show_balance_to_shop:
        return refusal("insufficient_balance", voucher_id=scene.voucher_id)
    err = Refused(
        "insufficient_balance",
        _l(
            "Not enough budget for this amount: %(left)s is left. Enter a lower amount.",
            left=format_euro(left, current_language()),
        ),
        balance_cents=left,
    )
    err.voucher_id = scene.voucher_id
    return err


def _payment(row: Any, balance: int | None, *, replayed: bool = False) -> Payment:
    """Return the shop's view of a redemption row (with the balance when the fund shows it)."""
    return Payment(
        id=row.id,
        receipt_number=row.receipt_number,
        amount_cents=row.amount_cents,
        refunded_cents=row.refunded_cents,
        ledger_seq=row.ledger_seq,
        entry_hash=row.entry_hash,
        created_at=row.created_at,
        balance_cents=balance,
        replayed=replayed,
    )
