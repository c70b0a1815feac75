"""The employee's identity from a token signed by the intranet (JWT).

The intranet signs a short-lived token for the logged-in employee; the widget
hands it to the widget channel when it connects. Claims:

    sub    employee id (required; never stored: the conversation id is its
           keyed hash, :func:`conversation_id`)
    name   display name (optional; shown in the widget's greeting, not stored)
    units  unit ids of the employee (a list; ``unit`` with one id is accepted too)
    exp    expiry (required), checked with a leeway for clock skew
    aud / iss  checked when ``MANDAT_JWT_AUDIENCE`` / ``MANDAT_JWT_ISSUER`` are set

HS256 (shared secret ``MANDAT_JWT_SECRET``) and RS256 (public key
``MANDAT_JWT_PUBLIC_KEY[_FILE]``) are both supported; ``MANDAT_JWT_ALGORITHMS``
says which are accepted. The key is chosen by the algorithm family, so an
HS256 token can never be checked against the RS256 public key.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import jwt

from bot.config import Settings
from bot.privacy import pseudonym

MAX_TOKEN_LENGTH = 8192
logger = logging.getLogger(__name__)


class TokenRejected(Exception):
    """The token is missing or not acceptable.

    Attributes:
        code: machine-readable reason (``missing``, ``expired``, ``bad_signature``,
            ``invalid``, ``no_unit``, ``unknown_unit``, ``not_configured``).
        message: Danish text for the employee.
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Identity:
    """A verified employee.

    Attributes:
        employee_id: the intranet's employee id (``sub``); keep it in memory only.
        display_name: name for the greeting (may be empty).
        units: the employee's unit ids, in the token's order.
        expires_at: the token's ``exp`` (Unix seconds).
    """

    employee_id: str
    display_name: str
    units: tuple[str, ...]
    expires_at: float

    def expired(self, leeway_s: float, now: float | None = None) -> bool:
        """True when the token has expired (more than ``leeway_s`` ago)."""
        return expired(self.expires_at, leeway_s, now)


def expired(expires_at: float, leeway_s: float, now: float | None = None) -> bool:
    """True when a token with ``exp`` = ``expires_at`` expired more than ``leeway_s`` seconds ago."""
    return (time.time() if now is None else now) > expires_at + leeway_s


def conversation_id(employee_id: str, key: str) -> str:
    """The Rasa sender id of an employee: a keyed hash of the id (never the id itself)."""
    return "w-" + pseudonym("widget:" + employee_id, key)


def _key_for(algorithm: str, settings: Settings) -> str:
    if algorithm.startswith("HS"):
        key = settings.jwt_secret
    else:
        key = settings.jwt_public_key
    if not key:
        raise TokenRejected("not_configured", "Chatten er ikke sat op til at kontrollere dit login. Kontakt IT.")
    return key


def verify_token(token: object, settings: Settings) -> Identity:
    """Verify ``token`` and return the employee it names.

    Args:
        token: the compact JWT string from the client (anything else is rejected).
        settings: keys, algorithms, leeway, audience and issuer.

    Raises:
        TokenRejected: missing, malformed, wrong algorithm or signature,
            expired, or without employee id or unit (``code`` says which).
    """
    if not token or not isinstance(token, str):
        raise TokenRejected("missing", "Du er ikke logget ind: intranettet sendte ingen adgangsnøgle.")
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenRejected("invalid", "Adgangsnøglen er ugyldig.")
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError:
        raise TokenRejected("invalid", "Adgangsnøglen er ugyldig.") from None
    if algorithm not in settings.jwt_algorithms:
        raise TokenRejected("invalid", "Adgangsnøglen er signeret på en måde, chatten ikke accepterer.")
    options = {"require": ["exp", "sub"]}
    try:
        claims = jwt.decode(
            token, _key_for(algorithm, settings), algorithms=[algorithm], leeway=settings.jwt_leeway_s,
            audience=settings.jwt_audience, issuer=settings.jwt_issuer,
            options={**options, "verify_aud": settings.jwt_audience is not None},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("expired", "Dit login er udløbet. Genindlæs siden for at logge ind igen.") from None
    except jwt.InvalidSignatureError:
        raise TokenRejected("bad_signature", "Adgangsnøglen har en forkert signatur.") from None
    except jwt.InvalidTokenError as exc:
        logger.info("Widget token rejected: %s", exc)
        raise TokenRejected("invalid", "Adgangsnøglen er ugyldig.") from None
    employee = claims.get("sub")
    if not isinstance(employee, str) or not employee.strip():
        raise TokenRejected("invalid", "Adgangsnøglen mangler medarbejder-id.")
    units = claims.get("units")
    if units is None and claims.get("unit") is not None:
        units = [claims["unit"]]
    if not isinstance(units, list) or not units or not all(isinstance(u, str) and u for u in units):
        raise TokenRejected("no_unit", "Adgangsnøglen siger ikke, hvilken enhed du er i.")
    name = claims.get("name")
    return Identity(employee_id=employee, display_name=name if isinstance(name, str) else "",
                    units=tuple(dict.fromkeys(units)), expires_at=float(claims["exp"]))


def issue_token(
    employee_id: str,
    units: list[str],
    *,
    key: str,
    display_name: str | None = None,
    algorithm: str = "HS256",
    lifetime_s: int = 3600,
    audience: str | None = None,
    issuer: str | None = None,
    now: float | None = None,
) -> str:
    """A signed token as the intranet would issue it (dev tokens, tests).

    Args:
        employee_id: the ``sub`` claim.
        units: unit ids (``units`` claim).
        key: HS* secret, or the PEM private key for RS*.
        display_name: the ``name`` claim.
        lifetime_s: seconds until ``exp`` (negative gives an expired token).

    Raises:
        ValueError: no employee id or no unit.
    """
    if not employee_id or not units:
        raise ValueError("a token needs an employee id and at least one unit")
    issued = int(time.time() if now is None else now)
    claims = {"sub": employee_id, "units": list(units), "iat": issued, "exp": issued + int(lifetime_s)}
    if display_name:
        claims["name"] = display_name
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, key, algorithm=algorithm)
