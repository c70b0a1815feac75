"""Tokens from the intranet: verification rules, and ``mandat token`` for dev tokens."""
from __future__ import annotations

import dataclasses

import jwt
import pytest

from bot.channels.identity import TokenRejected, conversation_id, issue_token, verify_token
from bot.cli import main
from bot.config import DEV_JWT_SECRET, get_settings

SECRET = "identity-test-secret-0123456789abcdef"


@pytest.fixture()
def settings(monkeypatch):
    for name in ("MANDAT_WIDGET_DEV_MODE", "MANDAT_JWT_ALGORITHMS", "MANDAT_JWT_AUDIENCE", "MANDAT_JWT_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANDAT_JWT_SECRET", SECRET)
    return get_settings()


def test_a_valid_token_names_the_employee_and_units(settings):
    identity = verify_token(issue_token("e1", ["tandplejen", "dagplejen"], key=SECRET, display_name="Eva"), settings)
    assert (identity.employee_id, identity.display_name, identity.units) == ("e1", "Eva", ("tandplejen", "dagplejen"))


def test_a_single_unit_claim_is_accepted(settings):
    signed = jwt.encode({"sub": "e1", "unit": "tandplejen", "exp": 4102444800}, SECRET, algorithm="HS256")
    assert verify_token(signed, settings).units == ("tandplejen",)


@pytest.mark.parametrize("claims, code", [
    ({"units": ["tandplejen"], "exp": 4102444800}, "invalid"),            # no employee id
    ({"sub": "e1", "exp": 4102444800}, "no_unit"),                        # no unit
    ({"sub": "e1", "units": ["tandplejen"]}, "invalid"),                  # no expiry
    ({"sub": "e1", "units": [], "exp": 4102444800}, "no_unit"),
])
def test_tokens_without_required_claims_are_rejected(settings, claims, code):
    with pytest.raises(TokenRejected) as caught:
        verify_token(jwt.encode(claims, SECRET, algorithm="HS256"), settings)
    assert caught.value.code == code


def test_audience_and_issuer_are_checked_when_configured(settings):
    strict = dataclasses.replace(settings, jwt_audience="mandatbot", jwt_issuer="https://intranet.storkeby.dk")
    good = issue_token("e1", ["tandplejen"], key=SECRET, audience="mandatbot", issuer="https://intranet.storkeby.dk")
    assert verify_token(good, strict).employee_id == "e1"
    with pytest.raises(TokenRejected):
        verify_token(issue_token("e1", ["tandplejen"], key=SECRET, audience="another-app",
                                 issuer="https://intranet.storkeby.dk"), strict)
    with pytest.raises(TokenRejected):
        verify_token(issue_token("e1", ["tandplejen"], key=SECRET), strict)


def test_conversation_id_is_keyed_and_does_not_contain_the_employee_id():
    assert conversation_id("anna", "k1") == conversation_id("anna", "k1")
    assert conversation_id("anna", "k1") != conversation_id("anna", "k2")
    assert "anna" not in conversation_id("anna", "k1")


def test_mandat_token_issues_a_dev_token(monkeypatch, capsys):
    monkeypatch.delenv("MANDAT_JWT_SECRET", raising=False)
    monkeypatch.setenv("MANDAT_WIDGET_DEV_MODE", "1")
    assert main(["token", "--employee", "anna", "--unit", "hjemmeplejen-syd", "--name", "Anna"]) == 0
    signed = capsys.readouterr().out.strip()
    identity = verify_token(signed, get_settings())
    assert (identity.employee_id, identity.units, identity.display_name) == ("anna", ("hjemmeplejen-syd",), "Anna")
    assert jwt.decode(signed, DEV_JWT_SECRET, algorithms=["HS256"])["sub"] == "anna"


def test_mandat_token_without_a_secret_says_how_to_set_one(monkeypatch, capsys):
    monkeypatch.delenv("MANDAT_JWT_SECRET", raising=False)
    monkeypatch.delenv("MANDAT_WIDGET_DEV_MODE", raising=False)
    assert main(["token", "--employee", "anna", "--unit", "x"]) == 1
    assert "MANDAT_JWT_SECRET" in capsys.readouterr().err
