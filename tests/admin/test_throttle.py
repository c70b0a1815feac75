"""Login throttling: back-off per (address, name), per address, per name for unknown addresses, per device.

Every test injects a fake clock; nothing sleeps.
"""
from __future__ import annotations

import pytest

from bot.admin.auth import Backoff, LoginThrottle
from tests.admin.conftest import PASSWORD, make_app


class FakeClock:
    """A clock the test moves by hand (Unix seconds)."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- the throttle itself ---------------------------------------------------

def test_backoff_grows_exponentially_and_is_capped():
    backoff = Backoff(free=3, base_s=1, cap_s=900)
    assert [backoff.delay(n) for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 16]
    assert backoff.delay(30) == 900


def test_failures_from_one_address_slow_that_address_for_that_name():
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1", "hr") == 0
        throttle.failure("10.0.0.1", "hr")
    assert throttle.retry_after("10.0.0.1", "hr") == 1
    clock.advance(1)
    assert throttle.retry_after("10.0.0.1", "hr") == 0
    throttle.failure("10.0.0.1", "hr")
    assert throttle.retry_after("10.0.0.1", "hr") == 2  # doubled
    assert throttle.retry_after("10.0.0.2", "hr") == 0  # another address is not slowed (name: 4 < 10 free)


def test_spraying_one_password_across_many_names_from_one_address_is_slowed():
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for i in range(10):
        assert throttle.retry_after("10.0.0.9", f"navn{i}") == 0  # each name fails once: no pair back-off
        throttle.failure("10.0.0.9", f"navn{i}")
    assert throttle.retry_after("10.0.0.9", "endnu-et-navn") > 0
    for i in range(10, 19):
        clock.advance(throttle.retry_after("10.0.0.9", f"navn{i}"))
        throttle.failure("10.0.0.9", f"navn{i}")
    assert throttle.retry_after("10.0.0.9", "navn99") == 512  # 2**(19-10): nineteen names cost minutes
    assert throttle.retry_after("10.0.0.10", "navn99") == 0   # other addresses are not slowed


def test_a_valid_login_does_not_reset_the_address_back_off():
    """A sprayer who logs into their own account now and then keeps their back-off."""
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for i in range(12):
        clock.advance(throttle.retry_after("10.0.0.9", f"navn{i}"))
        throttle.failure("10.0.0.9", f"navn{i}")
    throttle.success("10.0.0.9", "min-egen")
    assert throttle.retry_after("10.0.0.9", "navn50") > 0


def test_failures_for_one_name_from_many_addresses_slow_only_unknown_addresses():
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    throttle.success("10.1.1.1", "leder")  # the leader's office
    clock.advance(3600)
    for i in range(40):  # a botnet: every address tries once
        address = f"203.0.113.{i}"
        clock.advance(throttle.retry_after(address, "leder"))
        throttle.failure(address, "leder")
    assert throttle.retry_after("198.51.100.7", "leder") > 60   # a new address for this name waits
    assert throttle.retry_after("10.1.1.1", "leder") == 0       # the leader's known address does not
    assert throttle.retry_after("198.51.100.7", "hr") == 0      # nor does any other name
    assert throttle.retry_after("198.51.100.7", "leder", device="leders-browser") == 0  # nor a trusted device


def test_a_device_cookie_protects_the_leader_even_from_the_attackers_own_address():
    """Behind one NAT address: the attacker's failures slow that address, not the leader's browser."""
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for _ in range(30):
        clock.advance(throttle.retry_after("10.2.2.2", "leder"))
        throttle.failure("10.2.2.2", "leder")
    assert throttle.retry_after("10.2.2.2", "leder") > 60
    assert throttle.retry_after("10.2.2.2", "leder", device="leders-browser") == 0
    for _ in range(3):  # a stolen device cookie is throttled by its own failures
        throttle.failure("10.2.2.2", "leder", device="stjaalet")
    assert throttle.retry_after("10.2.2.2", "leder", device="stjaalet") > 0
    assert throttle.retry_after("10.2.2.2", "leder", device="leders-browser") == 0


def test_failures_are_forgotten_after_a_quiet_day():
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for _ in range(25):
        clock.advance(throttle.retry_after("10.0.0.1", "hr"))
        throttle.failure("10.0.0.1", "hr")
    assert throttle.retry_after("10.0.0.1", "hr") == 900  # capped at 15 minutes
    clock.advance(24 * 3600 + 1)
    assert throttle.retry_after("10.0.0.1", "hr") == 0
    throttle.failure("10.0.0.1", "hr")
    assert throttle.retry_after("10.0.0.1", "hr") == 0  # counting starts again


def test_memory_stays_bounded():
    clock = FakeClock()
    throttle = LoginThrottle(clock, max_keys=300)
    for i in range(1000):
        throttle.failure(f"10.{i // 250}.{i % 250}.1", f"navn{i}")
    assert len(throttle._failures) <= 300 + 3


# -- through the login page ----------------------------------------------------

@pytest.fixture()
def clock():
    return FakeClock()


@pytest.fixture()
def app(admin_db, clock):
    return make_app(admin_db, MANDAT_CLOCK=clock)


def _post(client, username, password, address="127.0.0.1", **kwargs):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, **kwargs)


def test_login_refused_while_backing_off_without_checking_the_password(app, clock):
    client = app.test_client()
    for _ in range(3):
        assert _post(client, "hr", "forkert").status_code == 401
    refused = _post(client, "hr", PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "For mange forkerte forsøg. Vent et sekund" in refused.get_data(as_text=True)
    clock.advance(1)
    assert _post(client, "hr", PASSWORD).status_code == 302


def test_leader_is_not_locked_out_by_failures_from_many_addresses(app, clock):
    office = app.test_client()
    assert _post(office, "leder", PASSWORD, "10.1.1.1").status_code == 302  # sets the device cookie
    assert office.get_cookie("mandat_device", path="/login") is not None
    office.post("/logout", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    clock.advance(3600)
    attacker = app.test_client()
    for i in range(11):  # one guess a minute, each from a new address
        clock.advance(60)
        assert _post(attacker, "leder", "gaet-nr-%d" % i, f"203.0.113.{i}").status_code == 401
    unknown = _post(app.test_client(), "leder", PASSWORD, "198.51.100.7")
    assert unknown.status_code == 429  # an unknown address must wait, even with the right password
    assert _post(app.test_client(), "leder", PASSWORD, "10.1.1.1").status_code == 302  # known address
    assert _post(office, "leder", PASSWORD, "192.0.2.44").status_code == 302  # the leader's browser, at home


def test_leader_keeps_logging_in_from_a_shared_address_with_the_device_cookie(app, clock):
    leader = app.test_client()
    assert _post(leader, "leder", PASSWORD, "10.5.5.5").status_code == 302
    leader.post("/logout", environ_base={"REMOTE_ADDR": "10.5.5.5"})
    attacker = app.test_client()
    for _ in range(6):
        clock.advance(5)
        _post(attacker, "leder", "forkert", "10.5.5.5")
    assert _post(attacker, "leder", PASSWORD, "10.5.5.5").status_code == 429
    assert _post(leader, "leder", PASSWORD, "10.5.5.5").status_code == 302


def test_a_device_cookie_of_another_name_does_not_help(app, clock):
    client = app.test_client()
    assert _post(client, "hr", PASSWORD, "10.6.6.6").status_code == 302
    client.post("/logout", environ_base={"REMOTE_ADDR": "10.6.6.6"})
    for _ in range(3):
        _post(client, "leder", "forkert", "10.6.6.6")
    assert _post(client, "leder", PASSWORD, "10.6.6.6").status_code == 429


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(admin_db, clock, monkeypatch):
    monkeypatch.delenv("MANDAT_TRUSTED_PROXIES", raising=False)
    client = make_app(admin_db, MANDAT_CLOCK=clock).test_client()
    for i in range(3):  # a spoofed header cannot give every attempt a fresh address
        _post(client, "hr", "forkert", headers={"X-Forwarded-For": f"203.0.113.{i}"})
    assert _post(client, "hr", PASSWORD, headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429

    monkeypatch.setenv("MANDAT_TRUSTED_PROXIES", "1")
    client = make_app(admin_db, MANDAT_CLOCK=clock).test_client()
    for _ in range(3):
        _post(client, "hr", "forkert", headers={"X-Forwarded-For": "203.0.113.1"})
    assert _post(client, "hr", PASSWORD, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    assert _post(client, "hr", PASSWORD, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 302

    from sqlalchemy import select

    from bot.db.models import AuditLog
    from bot.db.session import new_session

    session = new_session(admin_db)
    try:
        last = session.execute(select(AuditLog).order_by(AuditLog.id.desc())).scalars().first()
    finally:
        session.close()
    assert (last.action, last.actor, last.address) == ("login.success", "hr", "203.0.113.2")
