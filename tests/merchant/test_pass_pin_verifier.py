"""The till checks a pass's PIN with an HMAC verifier, written with the PIN or on first use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kindpakket.keys import Keyring
from kindpakket.passwords import hash_secret
from tests.merchant.conftest import World, login, pay
from wallet import activation, passes
from wallet.models import Household
from wallet.passmodels import PassPin


def _stored(session: Session, world: World) -> tuple[str | None, str | None]:
    """Return the till's verifiers of the wallet PIN and of the letter's PIN, as stored."""
    household = session.get(Household, world.household.id, populate_existing=True)
    letter = session.get(PassPin, world.household.id, populate_existing=True)
    assert household is not None
    session.commit()  # end the read: SQLite would keep showing this snapshot
    return household.pin_mac, None if letter is None else letter.pin_mac


def test_a_pin_letter_writes_the_tills_verifier_and_a_new_letter_replaces_the_old_pin(
    client: Any, session: Session, world: World
) -> None:
    card = passes.issue_passes(session, world.fund, world.keyring, actor="cli")[0]
    session.commit()
    assert card.pin is not None
    _, verifier = _stored(session, world)
    assert verifier is not None and card.pin not in verifier and "argon2" not in verifier
    login(client, world.cashier.email)
    assert pay(client, token=card.code, pin=card.pin, amount_cents=100).status_code == 201

    new_pin = passes.issue_pin_letter(
        session, world.household, actor="admin:1", keyring=world.keyring
    )
    session.commit()
    assert new_pin != card.pin
    old = pay(client, token=card.code, pin=card.pin, amount_cents=100)
    assert old.status_code == 401 and old.get_json()["error"]["code"] == "pass_pin_wrong"
    assert pay(client, token=card.code, pin=new_pin, amount_cents=100).status_code == 201


def test_an_older_wallet_pin_is_checked_with_argon2_once_then_with_the_verifier(
    client: Any, session: Session, world: World
) -> None:
    world.household.pin_hash = hash_secret("27183")  # set before the verifier existed
    session.commit()
    card = passes.issue_passes(session, world.fund, world.keyring, actor="cli")[0]
    session.commit()
    assert _stored(session, world) == (None, None)
    login(client, world.cashier.email)
    wrong = pay(client, token=card.code, pin="27184", amount_cents=100)
    assert wrong.get_json()["error"]["attempts_left"] == 2
    assert _stored(session, world)[0] is None  # a wrong PIN upgrades nothing
    assert pay(client, token=card.code, pin="27183", amount_cents=100).status_code == 201
    upgraded = _stored(session, world)[0]
    assert upgraded is not None and "27183" not in upgraded
    # From now on the verifier decides, and the lockout still counts wrong PINs.
    for left in (2, 1):
        refused = pay(client, token=card.code, pin="11235", amount_cents=100).get_json()
        assert refused["error"]["attempts_left"] == left
    assert pay(client, token=card.code, pin="27183", amount_cents=100).status_code == 201


def test_activating_the_wallet_writes_the_verifier_and_a_new_code_voids_it_at_the_till(
    client: Any, session: Session, world: World
) -> None:
    code = activation.issue_activation_code(session, world.household, actor="admin:1")
    session.commit()
    activation.activate(session, code, "27183", "27183", device="test", keyring=world.keyring)
    session.commit()
    card = passes.issue_passes(session, world.fund, world.keyring, actor="cli")[0]
    session.commit()
    assert card.pin is None and _stored(session, world)[0] is not None
    login(client, world.cashier.email)
    assert pay(client, token=card.code, pin="27183", amount_cents=100).status_code == 201

    activation.issue_activation_code(session, world.household, actor="admin:1")
    session.commit()
    assert _stored(session, world)[0] is None
    refused = pay(client, token=card.code, pin="27183", amount_cents=100)
    assert refused.status_code == 401


def test_a_verifier_whose_key_is_gone_falls_back_to_argon2_and_is_written_again(
    client: Any, session: Session, world: World, tmp_path: Path
) -> None:
    card = passes.issue_passes(session, world.fund, world.keyring, actor="cli")[0]
    session.commit()
    assert card.pin is not None
    letter = session.get(PassPin, world.household.id)
    assert letter is not None
    other = Keyring(tmp_path / "elsewhere")
    lost = passes.verifier(other, "pass", world.household.id, card.pin)
    assert lost is not None
    letter.pin_mac = lost
    session.commit()
    login(client, world.cashier.email)
    assert pay(client, token=card.code, pin=card.pin, amount_cents=100).status_code == 201
    rewritten = _stored(session, world)[1]
    assert rewritten is not None and rewritten.split("$")[0] != lost.split("$")[0]
