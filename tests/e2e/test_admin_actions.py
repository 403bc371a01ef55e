"""Admin actions in the browser: custom roles, deactivation, server-side field errors, own password."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from .conftest import ADMIN_PASSWORD
from .test_admin_console import USER_PASSWORD, login, sidebar

Shot = Callable[[Page, str], None]


def make_user(api: httpx.Client, username: str, display_name: str, role: str) -> int:
    branches = api.get("/api/v1/branches").json()
    response = api.post(
        "/api/v1/users",
        json={
            "username": username,
            "display_name": display_name,
            "password": USER_PASSWORD,
            "role": role,
            "branch_id": branches[-1]["id"],
        },
    )
    assert response.status_code == 201, response.text
    user_id: int = response.json()["id"]
    return user_id


def test_custom_role_grants_exactly_the_checked_pages(
    page: Page, shot: Shot, admin_api: httpx.Client
) -> None:
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="角色权限").click()
    page.get_by_role("button", name="新建角色").click()
    dialog = page.get_by_role("dialog", name="新建角色")
    dialog.get_by_label("角色标识").fill("e2e_audit_viewer")
    dialog.get_by_label("中文名称").fill("审计查看")
    dialog.get_by_label("英文名称").fill("Audit viewer")
    dialog.get_by_role("checkbox", name=re.compile("查看审计日志")).check()
    shot(page, "13-new-role-dialog")
    dialog.get_by_role("button", name="保存").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text("角色已创建")

    matrix = page.get_by_role("table", name="权限矩阵")
    header = matrix.locator("thead")
    expect(header).to_contain_text("审计查看")
    role_names = header.locator("th.role-col > div:first-child").all_inner_texts()
    column = role_names.index("审计查看")
    custom_header = header.locator("th.role-col").nth(column)
    expect(custom_header).to_contain_text("自定义")
    expect(custom_header.get_by_role("button", name="编辑")).to_be_visible()
    for permission, granted in (("audit:read", True), ("users:read", False)):
        row = matrix.locator(f"tr[data-permission='{permission}']")
        cell = row.locator("td").nth(column)
        if granted:
            expect(cell).to_have_text("✓")
        else:
            expect(cell).not_to_have_text("✓")
    shot(page, "14-custom-role-in-matrix")

    make_user(admin_api, "e2e_viewer", "赵查看", "e2e_audit_viewer")
    page.get_by_role("button", name="退出登录").click()
    login(page, "e2e_viewer", USER_PASSWORD)
    expect(page.get_by_test_id("user-role")).to_have_text("审计查看")
    nav = sidebar(page)
    expect(nav.get_by_role("link", name="审计日志")).to_be_visible()
    expect(nav).not_to_contain_text("用户管理")
    nav.get_by_role("link", name="审计日志").click()
    expect(page.get_by_role("table")).to_contain_text("登录")


def test_deactivated_user_cannot_sign_in(page: Page, admin_api: httpx.Client) -> None:
    make_user(admin_api, "e2e_leaver", "钱离职", "qc_reviewer")
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="用户管理").click()
    row = page.locator("tr[data-username=e2e_leaver]")
    row.get_by_role("button", name="编辑").click()
    dialog = page.get_by_role("dialog", name="编辑用户")
    expect(dialog.get_by_label("用户名")).to_be_disabled()
    dialog.get_by_label("姓名").fill("钱已离职")
    dialog.get_by_role("button", name="保存").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text("用户已更新")
    expect(row).to_contain_text("钱已离职")
    row.get_by_role("button", name="停用").click()
    expect(page.get_by_role("status")).to_have_text("用户已停用")
    expect(row).to_contain_text("已停用")
    expect(row.get_by_role("button", name="启用")).to_be_visible()
    # The admin's own row offers no way to lock themselves out.
    own = page.locator("tr[data-username=admin]")
    expect(own.get_by_role("button", name="停用")).to_have_count(0)
    expect(own.get_by_role("button", name="删除")).to_have_count(0)
    page.get_by_role("button", name="退出登录").click()
    login(page, "e2e_leaver", USER_PASSWORD)
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login"))


def test_server_field_errors_show_next_to_the_field(page: Page, shot: Shot) -> None:
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="用户管理").click()
    page.get_by_role("button", name="新建用户").click()
    dialog = page.get_by_role("dialog", name="新建用户")
    dialog.get_by_label("用户名").fill("a b")  # the server refuses spaces and names under 3 characters
    dialog.get_by_label("姓名").fill("格式错误")
    dialog.get_by_label("密码").fill(USER_PASSWORD)
    dialog.get_by_label("角色").select_option(label="质检员")
    dialog.get_by_label("网点").select_option(index=1)
    dialog.get_by_role("button", name="保存").click()
    username_field = dialog.locator("label.field", has=page.locator("input[name=username]"))
    expect(username_field.locator(".field-error")).to_be_visible()
    expect(dialog.get_by_role("alert")).to_be_visible()
    expect(dialog).to_be_visible()
    shot(page, "15-field-error")


def test_user_changes_own_password(page: Page, admin_api: httpx.Client) -> None:
    make_user(admin_api, "e2e_pw", "孙改密", "interviewer")
    page.goto("/login")
    login(page, "e2e_pw", USER_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    dialog = page.get_by_role("dialog", name="修改密码")
    dialog.get_by_label("当前密码").fill(USER_PASSWORD)
    dialog.get_by_label("新密码", exact=True).fill("E2e-New-pass-2")
    dialog.get_by_label("确认新密码").fill("E2e-New-pass-9")
    dialog.get_by_role("button", name="保存").click()
    expect(dialog).to_contain_text("两次输入的新密码不一致")
    dialog.get_by_label("确认新密码").fill("E2e-New-pass-2")
    dialog.get_by_role("button", name="保存").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text("密码已修改")
    page.get_by_role("button", name="退出登录").click()
    login(page, "e2e_pw", USER_PASSWORD)
    expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误")
    login(page, "e2e_pw", "E2e-New-pass-2")
    expect(page.get_by_role("heading", name="欢迎，孙改密")).to_be_visible()
