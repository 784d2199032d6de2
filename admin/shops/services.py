"""Shop approval per fund: approve, reject (with a reason), suspend; every decision audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.notifications import notify
from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from ledger import store
from merchant import services
from merchant.models import Shop, ShopApproval, payable_account, shop_fund_ids
from wallet.models import Fund

DECISIONS = ("approved", "rejected", "suspended")


@dataclass(frozen=True)
class ShopRow:
    """A shop with its approvals for the funds one municipality runs."""

    shop: Shop
    approvals: dict[int, ShopApproval]  # fund id -> decision

    def pending_for(self, funds: list[Fund]) -> bool:
        """Return True when some open fund has no decision on this shop yet."""
        return any(
            f.status == "open"
            and (f.id not in self.approvals or self.approvals[f.id].status == "pending")
            for f in funds
        )


def find_shop(session: Session, ref: str | int) -> Shop:
    """Return the shop by id or KvK number, or raise ``shop_not_found``."""
    text = str(ref).strip()
    shop = None
    if len(text) == 8 and text.isdigit():
        shop = session.execute(select(Shop).where(Shop.kvk == text)).scalar_one_or_none()
    if shop is None and text.isdigit():
        shop = session.get(Shop, int(text))
    if shop is None:
        raise DomainError("shop_not_found", _l("There is no such shop."))
    return shop


def shop_rows(session: Session, funds: list[Fund]) -> list[ShopRow]:
    """Return every shop with its decisions for ``funds``, applications first."""
    fund_ids = [f.id for f in funds]
    decisions: dict[int, dict[int, ShopApproval]] = {}
    if fund_ids:
        for a in session.execute(
            select(ShopApproval).where(ShopApproval.fund_id.in_(fund_ids))
        ).scalars():
            decisions.setdefault(a.shop_id, {})[a.fund_id] = a
    shops = session.execute(select(Shop).order_by(Shop.created_at.desc(), Shop.id.desc())).scalars()
    rows = [ShopRow(s, decisions.get(s.id, {})) for s in shops]
    return sorted(rows, key=lambda r: not r.pending_for(funds))


def approvals_of(session: Session, shop: Shop, funds: list[Fund]) -> dict[int, ShopApproval]:
    """Return the decisions on ``shop`` for ``funds`` by fund id."""
    ids = [f.id for f in funds]
    if not ids:
        return {}
    return {
        a.fund_id: a
        for a in session.execute(
            select(ShopApproval).where(
                ShopApproval.shop_id == shop.id, ShopApproval.fund_id.in_(ids)
            )
        ).scalars()
    }


def decide(
    session: Session,
    shop: Shop,
    fund: Fund,
    status: str,
    *,
    actor: str,
    reason: str | None = None,
    ip: str | None = None,
) -> ShopApproval:
    """Record the municipality's decision on ``shop`` for ``fund`` (audited)."""
    if status not in DECISIONS:
        raise DomainError("bad_decision", _l("Choose approve, reject or suspend."))
    reason = (reason or "").strip() or None
    if status in ("rejected", "suspended") and not reason:
        raise DomainError("reason_required", _l("Give a reason; the shop will see it."))
    if status == "approved":
        services.check_legal_name(shop.name)  # approved shops must be payable by transfer
    now = datetime.now(UTC)
    approval = session.execute(
        select(ShopApproval).where(ShopApproval.shop_id == shop.id, ShopApproval.fund_id == fund.id)
    ).scalar_one_or_none()
    before = {"status": approval.status, "reason": approval.reason} if approval else None
    if approval is None:
        approval = ShopApproval(shop_id=shop.id, fund_id=fund.id, created_at=now, status=status)
        session.add(approval)
    approval.status = status
    approval.reason = reason[:500] if reason else None
    approval.decided_at = now
    approval.decided_by = actor
    if status == "approved":
        store.open_account(session, payable_account(shop.id, fund.id))
        if shop.status == "pending":
            shop.status = "active"
    record_event(
        session,
        f"shop.{status}",
        actor=actor,
        subject=f"shop:{shop.id}",
        tenant_id=fund.municipality_id,
        before=before,
        after={"fund": fund.id, "status": status, "reason": approval.reason},
        ip=ip,
    )
    notify.shop_decided(session, shop, fund, status, approval.reason)
    return approval


def approve(
    session: Session, shop: Shop, fund: Fund, *, actor: str, ip: str | None = None
) -> ShopApproval:
    """Approve the shop for the fund: its payments in this fund are accepted from now."""
    return decide(session, shop, fund, "approved", actor=actor, ip=ip)


def reject(
    session: Session, shop: Shop, fund: Fund, reason: str, *, actor: str, ip: str | None = None
) -> ShopApproval:
    """Reject the shop for the fund, with a reason the shop sees."""
    return decide(session, shop, fund, "rejected", actor=actor, reason=reason, ip=ip)


def ours_to_rename(session: Session, shop: Shop, funds: list[Fund]) -> bool:
    """Return True when a municipality running ``funds`` may correct the shop's name.

    That is when it decided on the shop for one of its funds, or when the shop awaits its
    first decision anywhere (a new application every municipality may look at).
    """
    if approvals_of(session, shop, funds):
        return True
    return (
        shop.status == "pending"
        and not session.execute(
            select(ShopApproval.id).where(ShopApproval.shop_id == shop.id).limit(1)
        ).first()
    )


def rename_shop(
    session: Session,
    shop: Shop,
    name: str,
    *,
    actor: str,
    tenant_id: int | None = None,
    ip: str | None = None,
) -> Shop:
    """Correct a shop's legal name (the name its payouts are made to), audited."""
    new = services.check_legal_name(name)
    if new == shop.name:
        return shop
    before = shop.name
    shop.name = new
    record_event(
        session,
        "shop.renamed",
        actor=actor,
        subject=f"shop:{shop.id}",
        tenant_id=tenant_id,
        funds=shop_fund_ids(session, shop.id),  # its payouts in every fund carry the name
        before={"name": before},
        after={"name": new},
        ip=ip,
    )
    return shop


def suspend_shop(session: Session, shop: Shop, reason: str, *, actor: str) -> Shop:
    """Suspend the shop everywhere (installation operator, CLI): no payment in any fund."""
    if not (reason or "").strip():
        raise DomainError("reason_required", _l("Give a reason; the shop will see it."))
    before = shop.status
    shop.status = "suspended"
    record_event(
        session,
        "shop.suspended",
        actor=actor,
        subject=f"shop:{shop.id}",
        funds=shop_fund_ids(session, shop.id),
        before={"status": before},
        after={"status": "suspended", "reason": reason.strip()},
    )
    notify.shop_suspended(session, shop, reason.strip())
    return shop


def reinstate_shop(session: Session, shop: Shop, *, actor: str) -> Shop:
    """Lift an installation-wide suspension (per-fund decisions stay as they are)."""
    before = shop.status
    shop.status = "active"
    record_event(
        session,
        "shop.reinstated",
        actor=actor,
        subject=f"shop:{shop.id}",
        funds=shop_fund_ids(session, shop.id),
        before={"status": before},
        after={"status": "active"},
    )
    return shop
