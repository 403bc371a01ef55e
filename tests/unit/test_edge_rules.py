"""The rules behind the edge fixes: which outbound addresses are refused, bounded JSON, the canonical
spelling of link tokens, the redaction of tokens in log lines, and the settings that configure them."""

from __future__ import annotations

import ipaddress
import json
import time

import pytest
from pydantic import ValidationError

from dualrec.api.logging_setup import redact_tokens
from dualrec.core import bounded_json
from dualrec.core.outbound import AllowList, address_problem, url_problem
from dualrec.core.tasks import EntryToken, sign_entry_token, verify_entry_token
from dualrec.settings import Settings


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.bank.example/dualrec", ""),
        ("http://hooks.bank.example:8080/x?y=1", ""),
        ("ftp://hooks.bank.example/x", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("http://user:secret@hooks.bank.example/x", "user name or password"),
        ("http://@hooks.bank.example/x", "user name or password"),
        ("http:///x", "no host"),
        ("http://hooks.bank.example:99999/x", "malformed"),
        ("http://hooks.bank.example/a b", "whitespace"),
    ],
)
def test_urls_are_checked_when_configured(url: str, problem: str) -> None:
    found = url_problem(url)
    assert (problem in found) if problem else found == ""


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.8", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("100.64.0.1", "not public"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "private"),  # reserved (Python counts it as private too)
        ("93.184.215.14", ""),
        ("2606:4700::1111", ""),
    ],
)
def test_only_public_addresses_pass_without_the_allow_list(address: str, kind: str) -> None:
    found = address_problem("hooks.bank.example", ipaddress.ip_address(address), AllowList())
    assert (kind in found and "DUALREC_OUTBOUND_ALLOW" in found) if kind else found == ""


def test_the_allow_list_names_hosts_or_networks() -> None:
    allow = AllowList.parse(["127.0.0.1", "10.0.0.0/8", "Archive.Bank.Internal."])
    ip = ipaddress.ip_address
    assert address_problem("x", ip("127.0.0.1"), allow) == ""
    assert address_problem("x", ip("::ffff:127.0.0.1"), allow) == ""  # the same address, IPv4-mapped
    assert address_problem("x", ip("10.200.1.1"), allow) == ""
    assert address_problem("archive.bank.internal", ip("192.168.9.9"), allow) == ""
    assert "private" in address_problem("other.bank.internal", ip("192.168.9.9"), allow)
    assert "cloud metadata" in address_problem("x", ip("169.254.169.254"), allow)
    with pytest.raises(ValueError, match="not a host name"):
        AllowList.parse(["http://x/"])


def test_settings_carry_the_allow_list_and_refuse_bad_destinations() -> None:
    s = Settings(env="test", outbound_allow="127.0.0.1, 10.0.0.0/8 ,archive.bank.internal")  # type: ignore[arg-type]
    assert s.outbound_allow == ["127.0.0.1", "10.0.0.0/8", "archive.bank.internal"]
    with pytest.raises(ValidationError, match="user name or password"):
        Settings(env="test", archive_push_url="https://u:p@archive.bank.example/in")
    with pytest.raises(ValidationError, match="not a host name"):
        Settings(env="test", outbound_allow=["http://x/"])
    with pytest.raises(ValidationError, match="DUALREC_MEDIA_SERVER_ORIGIN"):
        Settings(env="test", media_server_origin="wss://media.example/path")
    assert Settings(env="test", metrics_token="t" * 20).masked()["metrics_token"] == "********"


def test_bounded_json_counts_brackets_outside_strings_only() -> None:
    assert bounded_json.loads("[" * 64 + "]" * 64) is not None
    with pytest.raises(bounded_json.JsonTooComplexError, match="nested deeper than 64"):
        bounded_json.loads("[" * 65 + "]" * 65)
    text = json.dumps({"s": "[" * 5000 + '\\"{' * 100, "n": [[1]]})
    assert bounded_json.loads(text)["n"] == [[1]]  # brackets inside strings are text
    with pytest.raises(bounded_json.JsonTooComplexError, match="larger than"):
        bounded_json.loads("[1]" + " " * 100, max_bytes=50)
    with pytest.raises(ValueError):  # any other problem is the parser's ordinary error
        bounded_json.loads("{not json")
    assert bounded_json.loads(b'{"a": [1]}') == {"a": [1]}


def test_a_link_token_has_one_spelling() -> None:
    key = b"k" * 32
    expires = int(time.time()) + 3600
    token = sign_entry_token(key, EntryToken("task-1", 1, expires))
    now = int(time.time())
    assert verify_entry_token(key, token, now=now) == EntryToken("task-1", 1, expires)
    body, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]  # same 32 bytes: 2 unused bits differ
    for variant in (
        token + "=",
        f"{body}.{sig}==",
        f"{body}.{twin}",
        f"{body}.{sig[:5]}*{sig[5:]}",  # a character the lenient decoder skips
        f"{body}.{sig}".replace("-", "+").replace("_", "/") + ("" if set("-_") & set(token) else "+"),
        f" {token}",
        token.upper(),
    ):
        assert verify_entry_token(key, variant, now=now) is None, variant


def test_tokens_are_redacted_in_any_log_text() -> None:
    token = "eyJ0IjoiYWJjIn0.c2lnbmF0dXJl"
    line = (
        f'127.0.0.1:5 - "WebSocket /api/v1/session/{token}/live" [accepted] GET /h5/{token}?a=1 '
        f"/api/v1/entry/{token} /api/v1/tasks/abc"
    )
    out = redact_tokens(line)
    assert token not in out and "c2lnbmF0dXJl" not in out
    assert out.count("[token:") == 3 and "/api/v1/tasks/abc" in out and "?a=1" in out
    assert redact_tokens(out) == out  # idempotent
