"""Concurrent writers keep the audit log's hash chain unbroken on every backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualrec.bootstrap.container import Container, build_container
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM
from tests.conftest import make_settings
from tests.services import isolated_database_url


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    with isolated_database_url(request.param, str(tmp_path)) as url:
        c = build_container(make_settings(tmp_path / "data", database_url=url), migrate=True, with_jobs=False)
        yield c
        c.close()


def test_parallel_appends_form_one_chain(backend: Container) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                audit.record_now(
                    backend.uows,
                    actor=SYSTEM,
                    action="test.concurrent",
                    target_type="t",
                    target_id=f"{n}-{i}",
                )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    ok, bad, checked = audit.verify_chain(backend.uows)
    assert ok and bad is None and checked == 90
