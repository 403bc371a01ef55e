"""Customer links are built on DUALREC_PUBLIC_URL: `dualrec serve` and `dualrec doctor` warn when it
is a loopback address (the default http://127.0.0.1:8000 included) while the server listens for
other machines — the link shown in the console would not open on the customer's phone."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualrec.bootstrap.doctor import is_loopback_host, public_url_finding, public_url_warning
from dualrec.cli.main import _warn_public_url, app
from dualrec.settings import load_settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("dualrec.bank.example", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_default_public_url_served_to_the_network_is_a_problem() -> None:
    problem = public_url_warning("http://127.0.0.1:8000", "0.0.0.0")
    assert problem is not None
    assert "DUALREC_PUBLIC_URL=http://127.0.0.1:8000" in problem and "0.0.0.0" in problem
    assert public_url_warning("http://localhost:8000", "192.168.1.20") is not None


@pytest.mark.parametrize(
    ("public_url", "host"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1"),  # local use: the default is right
        ("https://dualrec.bank.example", "0.0.0.0"),  # a real public address
        ("http://192.168.1.20:8000", "0.0.0.0"),
    ],
)
def test_no_warning_when_links_can_open(public_url: str, host: str) -> None:
    assert public_url_warning(public_url, host) is None


def test_doctor_line(tmp_path: Path) -> None:
    bad = public_url_finding(load_settings(data_dir=tmp_path, host="0.0.0.0"))
    assert (bad.area, bad.name, bad.ok, bad.required) == ("web", "public URL", False, False)
    good = public_url_finding(
        load_settings(data_dir=tmp_path, host="0.0.0.0", public_url="https://dr.example")
    )
    assert good.ok and "https://dr.example" in good.detail


def test_doctor_command_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALREC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DUALREC_HOST", "0.0.0.0")
    monkeypatch.delenv("DUALREC_PUBLIC_URL", raising=False)
    result = CliRunner().invoke(app, ["doctor"])
    line = next(x for x in result.output.splitlines() if "web/public URL" in x)
    assert line.startswith("[warn]") and "http://127.0.0.1:8000" in line


def test_serve_start_warns_on_stderr_and_in_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="dualrec.web"):
        _warn_public_url(settings, "0.0.0.0")
    assert "DUALREC_PUBLIC_URL=http://127.0.0.1:8000" in capsys.readouterr().err
    assert any("phone cannot open" in r.getMessage() for r in caplog.records)

    caplog.clear()
    _warn_public_url(settings, "127.0.0.1")  # serving on loopback: nothing to say
    assert capsys.readouterr().err == "" and not caplog.records
