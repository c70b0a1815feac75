"""Redaction of personal data before anything is stored or shown to HR.

Replaces CPR numbers, e-mail addresses and Danish phone numbers with
placeholders. CPR format: DDMMYY-SSSS (the CPR Act, LBK nr. 1297 af
2017 §3; written with or without the hyphen). Phone numbers: eight digits,
optionally +45/0045 and grouped in pairs or fours (Danish numbering plan).
"""
from __future__ import annotations

import hashlib
import hmac
import re

CPR_PLACEHOLDER = "[CPR-NR]"
EMAIL_PLACEHOLDER = "[E-MAIL]"
PHONE_PLACEHOLDER = "[TELEFON]"

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_CPR = re.compile(r"(?<![\d-])(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])(\d{2})[- ]?(\d{4})(?![\d-])")
_PHONE = re.compile(
    r"(?<![\d.,-])(?:(?:\+|00)45[ -]?)?(?:\d{2}( ?)\d{2}\1\d{2}\1\d{2}|\d{4} \d{4})(?!\d|[.,-]\d)"
)


def redact(text: str) -> str:
    """``text`` with CPR numbers, e-mail addresses and phone numbers replaced.

    Examples:
        >>> redact("Borger 010190-1234 ringede fra 22 33 44 55, mail a@b.dk")
        'Borger [CPR-NR] ringede fra [TELEFON], mail [E-MAIL]'
    """
    if not text:
        return text
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _CPR.sub(CPR_PLACEHOLDER, text)
    text = _PHONE.sub(PHONE_PLACEHOLDER, text)
    return text


def pseudonym(user_id: str | None, key: str) -> str | None:
    """Keyed hash (HMAC-SHA256, first 32 hex digits) of a user id; None stays None."""
    if not user_id:
        return None
    return hmac.new(key.encode(), user_id.encode(), hashlib.sha256).hexdigest()[:32]
