"""Personal data never reaches the database or HR's screen."""
import pytest

from bot.privacy import pseudonym, redact


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Borgeren har cpr 010190-1234.", "Borgeren har cpr [CPR-NR]."),
        ("cpr 0101901234", "cpr [CPR-NR]"),
        ("Ring til datteren på 22 33 44 55, tak", "Ring til datteren på [TELEFON], tak"),
        ("tlf +45 22334455", "tlf [TELEFON]"),
        ("tlf 2233 4455", "tlf [TELEFON]"),
        ("skriv til anne.hansen@kommune.dk", "skriv til [E-MAIL]"),
    ],
)
def test_redacts_cpr_phone_and_email(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Må jeg købe for 3.000 kr. til 12 beboere i 2026?",
        "Mødet er 10.30-12.00 den 12-05-2026",
        "Må jeg give 1.500 kr.?",
    ],
)
def test_keeps_amounts_dates_and_times(text):
    assert redact(text) == text


def test_pseudonym_is_stable_keyed_and_not_the_id():
    a = pseudonym("medarbejder-42", "key-1")
    assert a == pseudonym("medarbejder-42", "key-1")
    assert a != pseudonym("medarbejder-42", "key-2")
    assert "42" not in a and len(a) == 32
    assert pseudonym(None, "key") is None
