"""Problem details in one language (issue 19), through the real app: the same error in zh-CN and en
(a wrong login, a missing task, a bad upload, the customer page's signature error, a request
validation error); the language follows ``Accept-Language`` by q-value, and a user's own setting
wins over it."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from dualrec.bootstrap.container import Container
from dualrec.i18n import has_cjk
from tests.conftest import ADMIN_PASSWORD, CSRF, login
from tests.integration.test_flows_tasks_api import Signed, admin, system
from tests.integration.test_live_session_api import _started, _task

__all__ = ["admin", "system"]  # fixtures

PAIR = re.compile(r"[\u3400-\u9fff][^/]*\s/\s[A-Za-z]")


def _zh(body: dict[str, Any]) -> None:
    for member in ("title", "detail"):
        text = body[member]
        assert has_cjk(text) and not PAIR.search(text), f"{member} not zh-CN only: {text!r}"


def _en(body: dict[str, Any]) -> None:
    for member in ("title", "detail"):
        assert body[member] and not has_cjk(body[member]), f"{member} not English only: {body[member]!r}"


def _both(call: Any, status: int, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same request in zh-CN and en: same status, code, message key and parameters."""
    zh, en = call("zh-CN"), call("en")
    assert zh.status_code == en.status_code == status, (zh.text, en.text)
    assert zh.headers["content-language"] == "zh-CN" and en.headers["content-language"] == "en"
    assert zh.headers["content-type"] == "application/problem+json"
    a, b = zh.json(), en.json()
    _zh(a)
    _en(b)
    assert a["message_key"] == b["message_key"] == key and a["params"] == b["params"]
    assert a["code"] == b["code"] and a["detail"] != b["detail"]
    return a, b


def test_a_wrong_login_in_each_language(app_client: TestClient) -> None:
    def call(lang: str) -> Any:
        return app_client.post(
            "/api/v1/auth/login",
            json={"username": "admin", "password": "wrong-password"},
            headers={**CSRF, "Accept-Language": lang},
        )

    zh, en = _both(call, 401, "identity.wrong_username_password")
    assert zh["code"] == "unauthenticated" and "用户名或密码错误" in zh["detail"]
    assert en["detail"] == "wrong username or password" and en["title"] == "Authentication required"


def test_the_language_follows_accept_language_by_q_value(app_client: TestClient) -> None:
    def detail(header: str | None) -> str:
        headers = {"Accept-Language": header} if header is not None else {}
        r = app_client.get("/api/v1/users", headers=headers)  # not signed in (wrong logins lock out)
        assert r.status_code == 401
        return str(r.json()["detail"])

    zh, en = detail("zh-CN"), detail("en")
    assert detail(None) == zh  # zh-CN by default
    assert detail("fr-FR") == zh  # nothing supported: the default
    assert detail("en-GB,en;q=0.9") == en
    assert detail("en;q=0.4, zh-Hans;q=0.8") == zh
    assert detail("fr, zh;q=0.2, en;q=0.5") == en
    assert detail("en;q=0, *;q=0.1") == zh


def test_a_missing_task_and_a_bad_upload_in_each_language(admin: TestClient) -> None:
    missing = f"/api/v1/tasks/{uuid.uuid4()}"
    zh, en = _both(
        lambda lang: admin.get(missing, headers={"Accept-Language": lang}), 404, "tasks.task_found"
    )
    assert zh["code"] == "not_found" and en["detail"] == "task not found" and zh["title"] == "未找到"

    def upload(lang: str) -> Any:
        return admin.post(
            "/api/v1/recordings",
            files={"file": ("empty.mp4", b"", "video/mp4")},
            headers={**CSRF, "Accept-Language": lang},
        )

    zh, en = _both(upload, 422, zh_key := upload("en").json()["message_key"])
    assert zh_key.startswith("recordings.") and "为空" in zh["detail"] and "empty" in en["detail"]


def test_request_validation_keeps_field_locations_in_each_language(admin: TestClient) -> None:
    def call(lang: str) -> Any:
        body = {"customer_name": 5, "phone": "x"}
        return admin.post("/api/v1/tasks", json=body, headers={**CSRF, "Accept-Language": lang})

    zh, en = _both(call, 422, "problem.request_invalid")
    assert zh["title"] == "输入不合法" and en["title"] == "Invalid input"
    assert zh["errors"] == en["errors"] and zh["errors"]
    assert all(e["loc"] and e["loc"][0] != "body" for e in zh["errors"])
    assert ["customer_name"] in [e["loc"] for e in zh["errors"]]


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (200, 80), (0, 0, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def test_the_customer_pages_signature_error_in_each_language(
    app_client: TestClient, admin: TestClient, system: Signed
) -> None:
    _, token = _task(admin, system)
    customer = _started(app_client, token)  # at the first node: not a signing step

    def sign(lang: str) -> Any:
        return customer.post(
            f"/api/v1/session/{token}/signature",
            content=_png(),
            headers={**CSRF, "Content-Type": "image/png", "Accept-Language": lang},
        )

    zh, en = _both(sign, 409, "sessions.not_at_signing_step")
    assert zh["detail"] == "当前不在签署环节" and en["detail"] == "not at a signing step"

    # a step the customer may not skip: the same in both languages, with its node as a parameter
    def answer(lang: str) -> Any:
        return customer.post(
            f"/api/v1/session/{token}/nodes/q1/outcome",
            json={"kind": "answer", "text": "是", "t": 1},
            headers={**CSRF, "Accept-Language": lang},
        )

    zh, en = _both(answer, 409, answer("en").json()["message_key"])
    assert zh["message_key"].startswith("sessions.")


def test_a_users_own_language_wins_and_only_he_sets_it(
    app_client: TestClient, admin: TestClient, system: Signed, container: Container
) -> None:
    missing = f"/api/v1/tasks/{uuid.uuid4()}"
    assert admin.get("/api/v1/auth/me").json()["language"] is None
    assert admin.get(missing).json()["detail"] == "任务不存在"

    r = admin.put("/api/v1/auth/me/language", json={"language": "en"}, headers=CSRF)
    assert r.status_code == 200 and r.json()["language"] == "en"
    # the setting wins over nothing and over the header
    assert admin.get(missing).json()["detail"] == "task not found"
    r = admin.get(missing, headers={"Accept-Language": "zh-CN"})
    assert r.json()["detail"] == "task not found" and r.headers["content-language"] == "en"
    # it is stored: a new session of the same user speaks English too
    again = login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)
    assert again.get("/api/v1/auth/me").json()["language"] == "en"
    assert again.get(missing).json()["detail"] == "task not found"

    # null: back to the browser's language
    assert (
        admin.put("/api/v1/auth/me/language", json={"language": None}, headers=CSRF).json()["language"]
        is None
    )
    assert admin.get(missing, headers={"Accept-Language": "zh-CN"}).json()["detail"] == "任务不存在"

    # only supported languages; a business system has no own language; no session, no setting
    bad = admin.put("/api/v1/auth/me/language", json={"language": "fr"}, headers=CSRF)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["language"]
    assert admin.get("/api/v1/auth/me").json()["language"] is None
    assert system.call("PUT", "/api/v1/auth/me/language", {"language": "en"}).status_code == 403
    anonymous = TestClient(app_client.app)
    assert anonymous.put("/api/v1/auth/me/language", json={"language": "en"}, headers=CSRF).status_code == 401
