"""The integrity audit page (issue 14, item 4): an auditor runs the audit from the console, sees it
pass on a clean system, and sees the altered audit row named after someone edited the database."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import ADMIN_PASSWORD, running_server
from .test_admin_console import login, sidebar


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server of its own: this test alters its database behind its back."""
    data_dir = tmp_path_factory.mktemp("integrity-e2e")
    with running_server(data_dir) as (base_url, _log):
        yield base_url, data_dir / "dualrec.sqlite3"


def test_auditor_runs_the_integrity_audit_and_sees_an_altered_row(
    chromium: Browser, own_server: tuple[str, Path], shot
) -> None:
    base_url, database = own_server
    context = chromium.new_context(base_url=base_url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page: Page = context.new_page()
    try:
        page.goto("/admin/integrity")
        login(page, "admin", ADMIN_PASSWORD)
        expect(page).to_have_url(re.compile(r"/admin/integrity$"))
        expect(sidebar(page).get_by_role("link", name="完整性审计")).to_be_visible()
        expect(page.get_by_test_id("never-run")).to_be_visible()

        page.get_by_test_id("run-audit").click()
        result = page.get_by_test_id("audit-result")
        expect(result).to_contain_text("通过：账本、检查点与审计日志均完整")
        expect(result).to_contain_text("控制台 / 接口 · admin")
        shot(page, "integrity-01-clean")

        # Someone with write access to the database alone changes where a login came from.
        with sqlite3.connect(database) as db:
            (row_id,) = db.execute("SELECT min(id) FROM audit_events WHERE action = 'auth.login'").fetchone()
            db.execute("UPDATE audit_events SET ip = '10.6.6.6' WHERE id = ?", (row_id,))

        page.get_by_test_id("run-audit").click()
        expect(result).to_contain_text("未通过：发现")
        expect(page.get_by_test_id("audit-problems")).to_contain_text(
            f"audit row {row_id} (auth.login): content does not match its hash (altered row)"
        )
        shot(page, "integrity-02-altered-row")

        page.reload()  # the result is the server's, not the page's memory
        expect(page.get_by_test_id("audit-problems")).to_contain_text(f"audit row {row_id}")
    finally:
        context.close()
