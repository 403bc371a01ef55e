"""The in-memory login trackers: a sliding window per source, lockouts of names without an account,
both bounded in size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dualrec.core.auth_rules import FailureWindow, LockoutPolicy, NameLockouts, ThrottlePolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_window_blocks_at_the_limit_until_the_oldest_failure_leaves_it() -> None:
    window = FailureWindow(ThrottlePolicy(3, timedelta(minutes=10)))
    for minute in (0, 1, 2):
        assert window.blocked_until("1.2.3.4", T0 + timedelta(minutes=minute)) is None
        window.fail("1.2.3.4", T0 + timedelta(minutes=minute))
    assert window.blocked_until("1.2.3.4", T0 + timedelta(minutes=3)) == T0 + timedelta(minutes=10)
    assert window.blocked_until("5.6.7.8", T0 + timedelta(minutes=3)) is None
    assert window.blocked_until("1.2.3.4", T0 + timedelta(minutes=10, seconds=1)) is None


def test_window_zero_is_off_and_memory_is_bounded() -> None:
    off = FailureWindow(ThrottlePolicy(0, timedelta(minutes=10)))
    for _ in range(100):
        off.fail("x", T0)
    assert off.blocked_until("x", T0) is None
    small = FailureWindow(ThrottlePolicy(1, timedelta(minutes=10)), max_keys=2)
    for key in ("a", "b", "c"):
        small.fail(key, T0)
    assert small.blocked_until("a", T0) is None  # the least recently failed was forgotten
    assert small.blocked_until("b", T0) and small.blocked_until("c", T0)


def test_unknown_names_lock_like_accounts() -> None:
    names = NameLockouts(LockoutPolicy(3, timedelta(minutes=15)), max_keys=2)
    assert [names.fail("ghost", T0) for _ in range(3)] == [None, None, T0 + timedelta(minutes=15)]
    assert names.locked_until("ghost", T0 + timedelta(minutes=14)) == T0 + timedelta(minutes=15)
    later = T0 + timedelta(minutes=16)
    assert names.locked_until("ghost", later) is None
    assert names.fail("ghost", later) == later + timedelta(minutes=15)  # like failed_logins >= max
    names.fail("a", T0)
    names.fail("b", T0)
    assert names.locked_until("ghost", later) is None  # bounded: evicted
