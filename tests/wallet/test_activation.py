"""Activation codes, PINs, lockout and unlock, code re-issue (services, no HTTP)."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket.audit import AuditEvent
from kindpakket.errors import DomainError
from tests import factories
from tests.wallet.conftest import CODE, PIN, World
from wallet import activation, services
from wallet.models import FamilySession

FORMAT = re.compile(r"^KP(-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}){4}$")


def code_of(call) -> str:  # type: ignore[no-untyped-def]
    """Return the DomainError code raised by call()."""
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_new_codes_are_grouped_unambiguous_and_random_enough() -> None:
    codes = {services.new_activation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert FORMAT.match(code), code
        assert not set(code[3:].replace("-", "")) & set("01ILOU")
    assert activation.CODE_BITS >= 60
    assert pytest.approx(16 * math.log2(30)) == activation.CODE_BITS


def test_normalised_hash_matches_the_factory_and_forgives_typing() -> None:
    expected = factories.activation_hash(CODE)
    assert services.code_hash(CODE) == expected
    assert services.normalise_code(CODE) == "KP7F3KQ9XM2HDT8WNC"
    for typed in ("kp-7f3k-q9xm-2hdt-8wnc", " KP 7F3K Q9XM 2HDT 8WNC ", "7F3K-Q9XM-2HDT-8WNC"):
        assert services.code_hash(typed) == expected, typed
    assert services.code_hash("KP-7F3K-Q9XM-2HDT-8WND") != expected
    assert services.format_code("kp7f3kq9xm2hdt8wnc") == CODE


def test_activation_sets_an_argon2_pin_and_opens_a_session(session: Session, world: World) -> None:
    household, row = services.activate(session, CODE.lower(), PIN, PIN, device="Android, Chrome")
    assert household.id == world.household.id
    assert household.pin_hash and household.pin_hash.startswith("$argon2id$")
    assert PIN not in household.pin_hash
    assert household.activated_at is not None
    assert row.household_id == household.id and len(row.id) == 43 and row.revoked_at is None
    again = code_of(lambda: services.activate(session, CODE, "97531", "97531", device="x"))
    assert again == "already_activated"


@pytest.mark.parametrize(
    ("pin", "again", "code"),
    [
        ("1234", "1234", "pin_format"),
        ("12a45", "12a45", "pin_format"),
        ("1234567890123", "1234567890123", "pin_format"),
        ("11111", "11111", "pin_too_simple"),
        ("12345", "12345", "pin_too_simple"),
        ("98765", "98765", "pin_too_simple"),
        ("48213", "48231", "pin_mismatch"),
    ],
)
def test_pin_rules(session: Session, world: World, pin: str, again: str, code: str) -> None:
    assert code_of(lambda: services.activate(session, CODE, pin, again, device="x")) == code
    assert world.household.pin_hash is None


def test_unknown_code_is_refused(session: Session, world: World) -> None:
    assert code_of(lambda: services.login(session, "KP-2222-2222-2222-2222", PIN, device="x")) == (
        "code_unknown"
    )
    assert code_of(lambda: services.activate(session, "", PIN, PIN, device="x")) == "code_unknown"


def test_login_before_activation_says_so(session: Session, world: World) -> None:
    assert code_of(lambda: services.login(session, CODE, PIN, device="x")) == "not_activated"


def test_wrong_pins_lock_out_with_minutes_and_unlock_after_the_wait(
    session: Session, world: World
) -> None:
    household, _ = services.activate(session, CODE, PIN, PIN, device="x")
    policy = services.PinPolicy(max_attempts=5, lockout_seconds=900)
    start = household.activated_at
    for attempt in range(1, 5):
        with pytest.raises(DomainError) as caught:
            services.login(session, CODE, "99999", device="x", now=start, policy=policy)
        assert caught.value.code == "pin_wrong"
        assert caught.value.details["attempts_left"] == 5 - attempt
    with pytest.raises(DomainError) as caught:
        services.login(session, CODE, "99999", device="x", now=start, policy=policy)
    assert caught.value.code == "pin_locked" and caught.value.status == 429
    assert caught.value.details["minutes"] == 15
    assert "15" in str(caught.value.message)
    # Locked: even the right PIN is refused, and the message counts down.
    later = start + timedelta(minutes=10, seconds=30)
    with pytest.raises(DomainError) as caught:
        services.login(session, CODE, PIN, device="x", now=later, policy=policy)
    assert caught.value.code == "pin_locked" and caught.value.details["minutes"] == 5
    # After the wait the right PIN works and the counter starts again.
    after = start + timedelta(seconds=901)
    found, row = services.login(session, CODE, PIN, device="x", now=after, policy=policy)
    assert found.id == household.id and found.pin_failures == 0 and row.id
    events = session.execute(
        select(AuditEvent.name).where(AuditEvent.subject == f"household:{household.id}")
    ).scalars()
    assert "household.pin_locked" in set(events)


def test_a_right_pin_resets_the_failure_count(session: Session, world: World) -> None:
    household, _ = services.activate(session, CODE, PIN, PIN, device="x")
    for _ in range(3):
        code_of(lambda: services.login(session, CODE, "99999", device="x"))
    assert household.pin_failures == 3
    services.login(session, CODE, PIN, device="x")
    assert household.pin_failures == 0


def test_reissue_invalidates_the_old_code_clears_the_pin_and_logs_out(
    session: Session, world: World
) -> None:
    household, row = services.activate(session, CODE, PIN, PIN, device="x")
    session.flush()  # the device session row must exist for the revocation query
    new = services.issue_activation_code(session, household, actor="admin:1")
    assert FORMAT.match(new)
    assert household.code_hash == services.code_hash(new) == factories.activation_hash(new)
    assert household.pin_hash is None and household.activated_at is None
    assert services.household_by_code(session, CODE) is None
    assert code_of(lambda: services.login(session, CODE, PIN, device="x")) == "code_unknown"
    assert session.get(FamilySession, row.id).revoked_at is not None
    assert services.active_session(session, household.id, row.id) is None
    events = (
        session.execute(select(AuditEvent).where(AuditEvent.name == "household.code_reissued"))
        .scalars()
        .all()
    )
    assert len(events) == 1 and events[0].actor == "admin:1"
    assert new not in str(events[0].after)  # the code itself is never stored
    # The family activates the new code with a new PIN.
    again, _ = services.activate(session, new, "73915", "73915", device="x")
    assert again.id == household.id


def test_first_issue_is_recorded_as_issued(session: Session, world: World) -> None:
    household = factories.family(session, world.fund, reference="H-3", children=("Mo",))[0]
    code = services.issue_activation_code(session, household, actor="cli")
    assert services.household_by_code(session, code).id == household.id
    names = session.execute(select(AuditEvent.name)).scalars().all()
    assert "household.code_issued" in names
