"""The admin console in a real browser against the real server: login, permissions, users, branches."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Browser, Locator, Page, expect

from dualrec.core.rbac import BUILTIN_ROLES

from .conftest import ADMIN_PASSWORD

Shot = Callable[[Page, str], None]
USER_PASSWORD = "E2e-User-pass-1"


def login(page: Page, username: str, password: str) -> None:
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


def sidebar(page: Page) -> Locator:
    return page.locator("aside.sidebar")


def test_wrong_password_shows_clear_message(page: Page, shot: Shot) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    shot(page, "01-login")
    login(page, "nobody-here", "not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/login$"))
    shot(page, "02-login-wrong-password")


def test_admin_creates_branch_and_user_who_sees_only_their_pages(page: Page, shot: Shot) -> None:
    # Not signed in: a deep link goes to the login page and comes back after login.
    page.goto("/admin/branches")
    expect(page).to_have_url(re.compile(r"/login\?redirect="))
    login(page, "admin", ADMIN_PASSWORD)
    expect(page).to_have_url(re.compile(r"/admin/branches$"))
    expect(page.get_by_test_id("user-role")).to_have_text("管理员")
    for item in ("用户管理", "角色权限", "网点管理", "审计日志"):
        expect(sidebar(page).get_by_role("link", name=item)).to_be_visible()

    # A child branch under the head office.
    page.locator("[data-branch=HQ]").get_by_role("button", name="添加下级").click()
    dialog = page.get_by_role("dialog", name="新建下级网点")
    dialog.get_by_label("网点名称").fill("E2E测试支行")
    dialog.get_by_label("网点编码").fill("E2E-01")
    dialog.get_by_role("button", name="保存").click()
    expect(dialog).to_be_hidden()
    new_branch = page.locator("[data-branch=E2E-01]")
    expect(new_branch).to_contain_text("E2E测试支行")
    expect(new_branch).to_have_attribute("aria-level", "2")
    shot(page, "03-branch-created")

    # An interviewer in that branch.
    sidebar(page).get_by_role("link", name="用户管理").click()
    expect(page.get_by_role("heading", name="用户管理")).to_be_visible()
    page.get_by_role("button", name="新建用户").click()
    dialog = page.get_by_role("dialog", name="新建用户")
    dialog.get_by_label("用户名").fill("e2e_interviewer")
    dialog.get_by_label("姓名").fill("王面签")
    dialog.get_by_label("密码").fill(USER_PASSWORD)
    dialog.get_by_label("角色").select_option(label="面签员")
    branch_select = dialog.get_by_label("网点")
    branch_value = branch_select.locator("option", has_text="E2E测试支行").get_attribute("value")
    assert branch_value
    branch_select.select_option(value=branch_value)
    shot(page, "04-create-user-dialog")
    dialog.get_by_role("button", name="保存").click()
    expect(dialog).to_be_hidden()
    row = page.locator("tr[data-username=e2e_interviewer]")
    expect(row).to_contain_text("王面签")
    expect(row).to_contain_text("面签员")
    expect(row).to_contain_text("E2E测试支行")
    expect(row).to_contain_text("正常")
    expect(page.get_by_role("status")).to_have_text("用户已创建")
    shot(page, "05-user-created")

    # Log out, then log in as the new user.
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login\?reason=loggedout$"))
    expect(page.get_by_text("您已安全退出")).to_be_visible()
    login(page, "e2e_interviewer", USER_PASSWORD)
    expect(page.get_by_role("heading", name="欢迎，王面签")).to_be_visible()
    expect(page.get_by_test_id("user-name")).to_have_text("王面签")
    expect(page.get_by_test_id("user-role")).to_have_text("面签员")
    expect(page.get_by_test_id("user-branch")).to_have_text("E2E测试支行")

    nav = sidebar(page)
    expect(nav.get_by_role("link", name="首页")).to_be_visible()
    expect(nav).to_contain_text("双录任务")
    for hidden in ("用户管理", "角色权限", "网点管理", "审计日志", "系统管理"):
        expect(nav).not_to_contain_text(hidden)
    shot(page, "06-interviewer-home")

    # Opening an admin page directly shows the 403 page.
    page.goto("/admin/users")
    expect(page.get_by_test_id("forbidden")).to_contain_text("403 · 无权访问")
    expect(page.get_by_role("heading", name="用户管理")).to_have_count(0)
    shot(page, "07-interviewer-forbidden")

    # Logout really ends the session.
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_repeated_failures_lock_the_account_with_clear_message(
    page: Page, shot: Shot, admin_api: httpx.Client
) -> None:
    branches = admin_api.get("/api/v1/branches").json()
    created = admin_api.post(
        "/api/v1/users",
        json={
            "username": "e2e_locked",
            "display_name": "锁定测试",
            "password": USER_PASSWORD,
            "role": "auditor",
            "branch_id": branches[0]["id"],
        },
    )
    assert created.status_code == 201, created.text
    page.goto("/login")
    error = page.get_by_test_id("login-error")
    locked = re.compile(r"^账户已锁定，请 \d+ 分钟后再试$")
    messages = []
    for _ in range(10):
        login(page, "e2e_locked", "wrong-password")
        expect(error).to_have_text(re.compile("用户名或密码错误|账户已锁定"))
        messages.append(error.inner_text())
        if locked.match(messages[-1]):
            break
    assert messages[0] == "用户名或密码错误"
    assert locked.match(messages[-1]), messages
    # Even the right password is refused while locked.
    login(page, "e2e_locked", USER_PASSWORD)
    expect(error).to_have_text(locked)
    shot(page, "08-login-locked")

    # The admin unlocks the account from the users page; then the right password works.
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="用户管理").click()
    page.get_by_role("searchbox").fill("e2e_locked")
    page.get_by_role("button", name="搜索").click()
    row = page.locator("tr[data-username=e2e_locked]")
    expect(row).to_contain_text("已锁定")
    expect(page.locator("tbody tr")).to_have_count(1)
    row.get_by_role("button", name="解锁").click()
    expect(page.get_by_role("status")).to_have_text("用户已解锁")
    expect(row).to_contain_text("正常")
    page.get_by_role("button", name="退出登录").click()
    login(page, "e2e_locked", USER_PASSWORD)
    expect(page.get_by_role("heading", name="欢迎，锁定测试")).to_be_visible()


def test_admin_pages_show_roles_audit_and_refuse_deleting_a_used_branch(
    page: Page, shot: Shot, admin_api: httpx.Client
) -> None:
    branches = admin_api.get("/api/v1/branches").json()
    parent = next(b for b in branches if b["parent_id"] is None)
    used = admin_api.post(
        "/api/v1/branches", json={"name": "有人的网点", "code": "E2E-USED", "parent_id": parent["id"]}
    )
    assert used.status_code == 201, used.text
    user = admin_api.post(
        "/api/v1/users",
        json={
            "username": "e2e_holder",
            "display_name": "占用者",
            "password": USER_PASSWORD,
            "role": "interviewer",
            "branch_id": used.json()["id"],
        },
    )
    assert user.status_code == 201, user.text

    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name=re.compile("^欢迎"))).to_be_visible()

    # Roles: the matrix has the built-in roles; admin holds users:write, the interviewer does not.
    sidebar(page).get_by_role("link", name="角色权限").click()
    matrix = page.get_by_role("table", name="权限矩阵")
    header = matrix.locator("thead")
    for role in (r.name_zh for r in BUILTIN_ROLES.values()):
        expect(header).to_contain_text(role)
    users_write = matrix.locator("tr[data-permission='users:write']")
    expect(users_write.locator("th")).to_have_text("管理用户")  # the permission by name, not its code
    role_names = header.locator("th.role-col > div:first-child").all_inner_texts()
    cells = users_write.locator("td")
    admin_cell = cells.nth(role_names.index("管理员"))
    interviewer_cell = cells.nth(role_names.index("面签员"))
    expect(admin_cell).to_have_text("✓")
    expect(interviewer_cell).not_to_have_text("✓")
    builtin_headers = header.locator("th.role-col", has=page.locator(".badge", has_text="内置"))
    expect(builtin_headers).to_have_count(len(BUILTIN_ROLES))
    expect(builtin_headers.get_by_role("button")).to_have_count(0)  # built-ins are read-only
    shot(page, "09-roles-matrix")

    # Audit log: the admin's own login is there.
    sidebar(page).get_by_role("link", name="审计日志").click()
    expect(page.locator("tbody td[data-action='auth.login']").first).to_have_text("登录")
    export = page.get_by_role("link", name="导出 CSV")
    expect(export).to_have_attribute("href", "/api/v1/audit-events/export.csv")
    shot(page, "10-audit-log")
    # Filtering by action narrows the table and the export link alike.
    page.locator("select[name=action]").select_option("branch.created")  # listed by name (创建网点)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("tbody td[data-action='auth.login']")).to_have_count(0)
    actions = page.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert actions and all(a == "创建网点" for a in actions), actions
    expect(export).to_have_attribute("href", "/api/v1/audit-events/export.csv?action=branch.created")
    csv = page.request.get(export.get_attribute("href") or "")
    assert csv.ok and "branch.created" in csv.text() and "auth.login" not in csv.text()

    # Branches: deleting a branch that still has users is refused with the server's explanation.
    sidebar(page).get_by_role("link", name="网点管理").click()
    page.once("dialog", lambda d: d.accept())
    page.locator("[data-branch=E2E-USED]").get_by_role("button", name="删除").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("[data-branch=E2E-USED]")).to_be_visible()
    shot(page, "11-branch-delete-refused")


def test_language_switch_changes_the_ui_to_english(page: Page, shot: Shot) -> None:
    """English picked on the sign-in page is the UI after signing in, whatever the user's saved
    setting was (another test may have saved Chinese), and becomes that setting."""
    page.goto("/login")
    page.get_by_label("语言").select_option("en")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    login_en = page.get_by_label("Username", exact=True)
    login_en.fill("admin")
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    try:
        expect(page.get_by_role("heading", name="Welcome, 系统管理员")).to_be_visible()
        expect(sidebar(page).get_by_role("link", name="Users")).to_be_visible()
        expect(page.get_by_test_id("user-role")).to_have_text("Administrator")
        shot(page, "12-english-home")
        assert page.request.get("/api/v1/auth/me").json()["language"] == "en"
        # The choice survives a reload.
        page.reload()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
    finally:
        # the admin's setting is shared by the other browser tests of this server: Chinese again
        page.request.put(
            "/api/v1/auth/me/language", data={"language": "zh-CN"}, headers={"X-Requested-With": "dualrec"}
        )


def test_phone_sized_screen_keeps_login_and_navigation_usable(
    chromium: Browser, server_url: str, shot: Shot
) -> None:
    context = chromium.new_context(
        base_url=server_url, locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.goto("/login")
        login(page, "admin", ADMIN_PASSWORD)
        expect(page.get_by_role("heading", name=re.compile("^欢迎"))).to_be_visible()
        expect(sidebar(page).get_by_role("link", name="用户管理")).to_be_in_viewport()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"home page is {overflow}px wider than the phone screen"
        shot(page, "16-phone-home")
    finally:
        context.close()
