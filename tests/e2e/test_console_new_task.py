"""A task created by hand in the console: the form, a PDF to sign, validation shown on the field, and
the customer's link that opens the self-service page."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.document_factory import make_pdf
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.test_admin_console import Shot, login, sidebar


def test_a_console_user_creates_a_task_and_gets_the_link(page: Page, shot: Shot, tmp_path: Path) -> None:
    pdf = tmp_path / "风险揭示书.pdf"
    pdf.write_bytes(make_pdf(2))
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="双录任务").click()
    page.get_by_role("button", name="新建任务").click()
    dialog = page.get_by_role("dialog", name="新建任务")
    for label, value in (
        ("客户姓名", "李四"),
        ("身份证号", "110105194912310021"),  # wrong check digit first
        ("客户号", "C-CONSOLE-1"),
        ("业务编号", "CONSOLE-0001"),
        ("产品名称", "稳健理财 1 号"),
        ("金额", "50000"),
    ):
        dialog.get_by_label(label, exact=True).fill(value)
    dialog.get_by_label("展示/签署的文件（PDF，可多选）").set_input_files(str(pdf))
    dialog.get_by_role("button", name="创建并生成链接").click()
    expect(dialog.locator(".field-error")).to_contain_text("校验位")
    dialog.locator("input[name=id_number]").fill("11010519491231002X")
    dialog.get_by_role("button", name="创建并生成链接").click()
    link = dialog.get_by_test_id("entry-link")
    expect(link).to_have_text(re.compile(r"/h5/"))
    shot(page, "50-console-new-task")
    href = link.get_attribute("href")
    assert href
    page.goto("/h5/" + href.rsplit("/h5/", 1)[1])
    expect(page.locator("[data-test=consent]")).to_contain_text("李*")
