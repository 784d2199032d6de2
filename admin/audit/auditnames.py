"""Readable audit events: event names, actors and subjects in the reader's language.

The log stores stable dotted names and ``role:id`` strings; the page shows them as words
(Dutch or English) with the raw value beside them, so a filter can still be typed. Actors
are shown by role and number only, never by name, e-mail or anything they typed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

EVENTS: dict[str, object] = {
    "admin_user.created": _l("Staff account created"),
    "admin_user.password_changed": _l("Staff member changed their password"),
    "admin_user.reset": _l("Staff account reset from the command line"),
    "admin_user.logged_in": _l("Staff member logged in"),
    "admin_user.logged_out": _l("Staff member logged out"),
    "admin_user.login_failed": _l("Staff login failed"),
    "database.restored": _l("Database restored from a backup"),
    "family_session.opened": _l("Family logged in on a device"),
    "family_session.revoked": _l("Family device logged out"),
    "fund.budgets_issued": _l("Budgets issued"),
    "fund.children_imported": _l("Children imported"),
    "fund.closed": _l("Fund closed"),
    "fund.created": _l("Fund created"),
    "fund.deposited": _l("Money put into the fund"),
    "fund.extended": _l("Fund period extended"),
    "fund.import_previewed": _l("Import file checked"),
    "fund.letters_printed": _l("Activation letters printed"),
    "fund.pass_setting_changed": _l("Pass setting changed (per household or per child)"),
    "fund.passes_issued": _l("Kindpakket passes issued and printed"),
    "fund.reminder_letters_printed": _l("Printed expiry reminders downloaded"),
    "household.activated": _l("Family activated its code and chose a PIN"),
    "household.code_issued": _l("Activation code issued"),
    "household.code_reissued": _l("New activation code issued"),
    "household.code_unknown": _l("Unknown activation code tried"),
    "household.email_added": _l("Family added an e-mail address"),
    "household.email_confirmed": _l("Family confirmed its e-mail address"),
    "household.pass_pin_issued": _l("New PIN for the pass issued"),
    "household.pass_requested": _l("Family asked for a pass"),
    "household.pin_letter_printed": _l("PIN letter for the pass printed"),
    "household.pin_locked": _l("Family locked out after wrong PINs"),
    "household.pin_wrong": _l("Wrong PIN entered"),
    "key.generated": _l("Signing key generated"),
    "key.rotated": _l("Signing key rotated"),
    "ledger.checkpoint_signed": _l("Ledger checkpoint signed"),
    "ledger.cosigned": _l("Ledger checkpoint co-signed by a witness"),
    "municipality.created": _l("Municipality created"),
    "notification.preferences_changed": _l("Message preferences changed"),
    "pass.blocked": _l("Pass blocked"),
    "pass.pin_locked": _l("Pass blocked after 3 wrong PINs"),
    "pass.pin_wrong": _l("Wrong PIN typed for a pass"),
    "pass.replaced": _l("Pass replaced by a new one"),
    "redemption.refunded": _l("Payment refunded"),
    "service.hold_lifted": _l("Hold after a restore lifted"),
    "service.restore_loss_accepted": _l("Restore accepted despite lost or unproven entries"),
    "bank_file.imported": _l("Bank file imported"),
    "bank_line.resolved": _l("Bank statement line resolved"),
    "payout.returned": _l("Payout rejected or returned by the bank"),
    "settlement.cancelled": _l("Payout batch cancelled"),
    "settlement.confirmed": _l("Payout batch confirmed as paid"),
    "settlement.created": _l("Payout batch created"),
    "settlement.exported": _l("Payout file downloaded for the bank"),
    "shop.applied": _l("Shop applied to join"),
    "shop.approved": _l("Shop approved"),
    "shop.hours_changed": _l("Shop changed its opening hours"),
    "shop.iban_changed": _l("Shop changed its IBAN"),
    "shop.reinstated": _l("Shop reinstated"),
    "shop.rejected": _l("Shop rejected"),
    "shop.renamed": _l("Shop's legal name corrected"),
    "shop.suspended": _l("Shop suspended"),
    "shop_user.activated": _l("Shop cashier switched on"),
    "shop_user.created": _l("Shop cashier added"),
    "shop_user.deactivated": _l("Shop cashier switched off"),
    "shop_user.password_changed": _l("Shop staff changed their password"),
    "shop_user.logged_in": _l("Shop staff logged in"),
    "shop_user.logged_out": _l("Shop staff logged out"),
    "shop_user.login_failed": _l("Shop login failed"),
    "voucher.blocked": _l("Child's budget blocked"),
    "voucher.topped_up": _l("Child's budget topped up"),
    "voucher.unblocked": _l("Child's budget unblocked"),
}

ACTORS: dict[str, object] = {
    "admin": _l("Municipality staff %(id)s"),
    "shop_user": _l("Shop staff %(id)s"),
    "shop": _l("Shop %(id)s (by its e-mail link)"),
    "household": _l("Family (household %(id)s)"),
    "witness": _l("Witness %(id)s"),
    "cli": _l("Command line (%(id)s)"),
}
PROCESSES: dict[str, object] = {
    "cli": _l("Command line"),
    "demo": _l("Demo data"),
    "anonymous": _l("Not logged in"),
    "system": _l("System"),
}
SUBJECTS: dict[str, object] = {
    "admin_user": _l("Staff account %(id)s"),
    "bank_file": _l("Bank file %(id)s"),
    "checkpoint": _l("Checkpoint of %(id)s entries"),
    "fund": _l("Fund %(id)s"),
    "household": _l("Household %(id)s"),
    "key": _l("Key %(id)s"),
    "municipality": _l("Municipality %(id)s"),
    "pass": _l("Pass %(id)s"),
    "redemption": _l("Payment %(id)s"),
    "settlement_batch": _l("Payout batch %(id)s"),
    "shop": _l("Shop %(id)s"),
    "shop_user": _l("Shop login %(id)s"),
    "voucher": _l("Budget %(id)s"),
}


def event_label(name: str) -> str:
    """Return the event's name in words (the dotted name for an unknown one)."""
    label = EVENTS.get(name)
    return str(label) if label is not None else name


def actor_label(actor: str) -> str:
    """Return who did it as role and number (``admin:3`` -> "Municipality staff 3")."""
    if actor in PROCESSES:
        return str(PROCESSES[actor])
    role, _, rest = actor.partition(":")
    template = ACTORS.get(role)
    return str(template).replace("%(id)s", rest) if template is not None and rest else actor


def subject_label(subject: str | None) -> str:
    """Return what it was done to in words (``fund:3`` -> "Fund 3")."""
    if not subject:
        return ""
    kind, _, rest = subject.partition(":")
    template = SUBJECTS.get(kind)
    return str(template).replace("%(id)s", rest) if template is not None and rest else subject
