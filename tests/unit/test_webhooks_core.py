"""The webhook signature recipe, its verification (tampering, replays, bad headers) and the retry schedule."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from dualrec.core.webhooks import (
    MalformedSignatureError,
    SignatureMismatchError,
    TimestampOutOfToleranceError,
    WebhookSignatureError,
    backoff_seconds,
    encode_body,
    retry_delay,
    sign_webhook,
    verify_webhook,
)

SECRET = "s3cret-key-of-the-business-system"
TS = 1_760_000_000
BODY = encode_body({"event": "task.status_changed", "data": {"status": "passed", "客户": "张三"}})


def test_signature_is_documented_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign_webhook(SECRET, TS, BODY) == f"v1={expected}"


def test_canonical_body_is_independent_of_key_order() -> None:
    assert encode_body({"b": 1, "a": "中"}) == encode_body({"a": "中", "b": 1}) == '{"a":"中","b":1}'.encode()


def _verify(**overrides: object) -> None:
    args: dict[str, object] = {
        "timestamp_header": str(TS),
        "signature_header": sign_webhook(SECRET, TS, BODY),
        "body": BODY,
        "now": TS + 5,
    }
    args.update(overrides)
    verify_webhook(SECRET, **args)  # type: ignore[arg-type]


def test_valid_request_verifies() -> None:
    _verify()
    _verify(signature_header=f"v1=deadbeef, {sign_webhook(SECRET, TS, BODY)}")  # rotation: any may match


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"body": BODY.replace(b"passed", b"failed")}, SignatureMismatchError),
        ({"timestamp_header": str(TS + 1)}, SignatureMismatchError),
        ({"signature_header": sign_webhook("another-secret", TS, BODY)}, SignatureMismatchError),
        ({"now": TS + 301}, TimestampOutOfToleranceError),  # replayed later
        ({"now": TS - 301}, TimestampOutOfToleranceError),  # from the future
        ({"timestamp_header": None}, MalformedSignatureError),
        ({"timestamp_header": "12.5"}, MalformedSignatureError),
        ({"timestamp_header": "-5"}, MalformedSignatureError),
        ({"signature_header": ""}, MalformedSignatureError),
        ({"signature_header": "v0=abcdef"}, MalformedSignatureError),
        ({"signature_header": sign_webhook(SECRET, TS, BODY)[3:]}, MalformedSignatureError),
    ],
)
def test_refused_requests(overrides: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        _verify(**overrides)
    assert isinstance(info.value, WebhookSignatureError) and isinstance(info.value, ValueError)


def test_tolerance_edges() -> None:
    _verify(now=TS + 300)
    _verify(now=TS - 300)
    with pytest.raises(TimestampOutOfToleranceError, match="replay"):
        _verify(now=TS + 60, tolerance=59)


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "expected"),
    [
        (1, 10, 3600, 10),
        (2, 10, 3600, 20),
        (3, 10, 3600, 40),
        (9, 10, 3600, 2560),
        (10, 10, 3600, 3600),
        (500, 10, 3600, 3600),
        (4, 0, 3600, 0),
        (3, 1.5, 5, 5),
    ],
)
def test_backoff(attempt: int, base: float, cap: float, expected: float) -> None:
    assert backoff_seconds(attempt, base, cap) == expected


def test_backoff_is_one_based() -> None:
    with pytest.raises(ValueError):
        backoff_seconds(0, 10, 60)


def test_retry_delay_gives_up_after_the_budget() -> None:
    schedule = [retry_delay(n, 4, 10, 3600) for n in range(1, 6)]
    assert schedule == [10, 20, 40, None, None]
