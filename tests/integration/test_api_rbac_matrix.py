"""Every role × every endpoint: allowed (not 403) or denied (403, no data) as a reviewed table says.

``REQUIRED`` below is written out by hand and reviewed against the product's roles (SPEC §8): it is
not read from the app, so an endpoint guarded by the wrong permission (or by none) fails here. Every
operation the app publishes must have a row, and every row an operation. Also: cross-branch access
never returns another branch's data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.core.identity import CustomRole
from dualrec.core.rbac import BUILTIN_ROLES, Permission
from dualrec.core.rbac import Permission as P
from tests.conftest import CSRF, PASSWORD, login

# what guards an operation when it is not a permission
PUBLIC = "public"  # no credential at all
LINK_TOKEN = "link token"  # the customer's signed link token in the path is the credential
ANY_USER = "any logged-in user"  # a user session, whatever its permissions
# remote interviews: the Janus API forwarded by the app; the participant's Janus token (signed by
# dualrec, checked by Janus) is the credential (tests/integration/test_rtc.py)
JANUS_TOKEN = "janus token"

# (method, path template) -> what the operation requires. A new operation needs a reviewed row here.
REQUIRED: dict[tuple[str, str], Permission | str] = {
    ("GET", "/api/v1/agent-uploads"): P.RECORDINGS_READ,
    ("POST", "/api/v1/agent-uploads"): P.RECORDINGS_UPLOAD,
    ("GET", "/api/v1/agent-uploads/{upload_id}"): P.RECORDINGS_READ,
    ("PUT", "/api/v1/agent-uploads/{upload_id}/content"): P.RECORDINGS_UPLOAD,
    ("GET", "/api/v1/agent-uploads/{upload_id}/report"): P.QC_READ,
    ("GET", "/api/v1/agent-uploads/{upload_id}/report/patent"): P.QC_READ,
    ("GET", "/api/v1/api-keys"): P.APIKEYS_MANAGE,
    ("POST", "/api/v1/api-keys"): P.APIKEYS_MANAGE,
    ("DELETE", "/api/v1/api-keys/{key_id}"): P.APIKEYS_MANAGE,
    ("GET", "/api/v1/archive-pushes/{job_id}"): P.EVIDENCE_EXPORT,
    ("GET", "/api/v1/archive/approval-chain"): P.ARCHIVE_SEARCH,
    ("PUT", "/api/v1/archive/approval-chain"): P.SETTINGS_WRITE,
    ("GET", "/api/v1/archive/deletion-requests"): P.ARCHIVE_SEARCH,
    ("GET", "/api/v1/archive/deletion-requests/{request_id}"): P.ARCHIVE_SEARCH,
    ("POST", "/api/v1/archive/deletion-requests/{request_id}/cancel"): P.ARCHIVE_DELETE_REQUEST,
    ("POST", "/api/v1/archive/deletion-requests/{request_id}/decision"): P.ARCHIVE_APPROVE,
    ("GET", "/api/v1/archive/entries"): P.ARCHIVE_SEARCH,
    ("GET", "/api/v1/archive/entries/export"): P.ARCHIVE_SEARCH,
    ("GET", "/api/v1/archive/entries/{recording_id}"): P.ARCHIVE_SEARCH,
    ("PATCH", "/api/v1/archive/entries/{recording_id}"): P.ARCHIVE_APPROVE,
    ("POST", "/api/v1/archive/entries/{recording_id}/deletion-requests"): P.ARCHIVE_DELETE_REQUEST,
    ("GET", "/api/v1/archive/entries/{recording_id}/export"): P.ARCHIVE_SEARCH,
    ("PUT", "/api/v1/archive/entries/{recording_id}/legal-hold"): P.ARCHIVE_APPROVE,
    ("GET", "/api/v1/archive/expiring"): P.ARCHIVE_SEARCH,
    ("GET", "/api/v1/archive/notices"): P.ARCHIVE_SEARCH,
    ("GET", "/api/v1/archive/retention-policies"): P.ARCHIVE_SEARCH,
    ("DELETE", "/api/v1/archive/retention-policies/{business_type}"): P.SETTINGS_WRITE,
    ("PUT", "/api/v1/archive/retention-policies/{business_type}"): P.SETTINGS_WRITE,
    ("GET", "/api/v1/audit-events"): P.AUDIT_READ,
    ("GET", "/api/v1/audit-events/export.csv"): P.AUDIT_READ,
    ("GET", "/api/v1/audit-exports/litigation"): P.AUDIT_READ,
    ("GET", "/api/v1/audit-exports/litigation.csv"): P.AUDIT_READ,
    ("GET", "/api/v1/audit-exports/litigation.pdf"): P.AUDIT_READ,
    ("GET", "/api/v1/audit-exports/operations"): P.AUDIT_READ,
    ("GET", "/api/v1/audit-exports/operations.csv"): P.AUDIT_READ,
    ("GET", "/api/v1/audit-exports/operations.pdf"): P.AUDIT_READ,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): ANY_USER,
    ("GET", "/api/v1/auth/me"): ANY_USER,
    ("POST", "/api/v1/auth/password"): ANY_USER,
    ("PUT", "/api/v1/auth/me/language"): ANY_USER,
    ("GET", "/api/v1/branches"): P.BRANCHES_READ,
    ("POST", "/api/v1/branches"): P.BRANCHES_WRITE,
    ("DELETE", "/api/v1/branches/{branch_id}"): P.BRANCHES_WRITE,
    ("PATCH", "/api/v1/branches/{branch_id}"): P.BRANCHES_WRITE,
    ("GET", "/api/v1/entry/{token}"): LINK_TOKEN,
    ("GET", "/api/v1/flows"): P.FLOWS_READ,
    ("POST", "/api/v1/flows"): P.FLOWS_WRITE,
    ("GET", "/api/v1/flows/{code}"): P.FLOWS_READ,
    ("PUT", "/api/v1/flows/{code}"): P.FLOWS_WRITE,
    ("POST", "/api/v1/flows/{code}/archive"): P.FLOWS_WRITE,
    ("POST", "/api/v1/flows/{code}/publish"): P.FLOWS_PUBLISH,
    ("GET", "/api/v1/flows/{code}/versions"): P.FLOWS_READ,
    ("GET", "/api/v1/flows/{code}/versions/{version}"): P.FLOWS_READ,
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/integrity-audit"): P.AUDIT_READ,
    ("POST", "/api/v1/integrity-audit/runs"): P.AUDIT_READ,
    ("GET", "/api/v1/litigation/certificate.pem"): P.EVIDENCE_EXPORT,
    ("GET", "/api/v1/litigation/settings"): P.EVIDENCE_EXPORT,
    ("GET", "/api/v1/node-types"): P.FLOWS_READ,
    ("GET", "/api/v1/permissions"): P.ROLES_READ,
    ("GET", "/api/v1/question-banks"): P.FLOWS_READ,
    ("POST", "/api/v1/question-banks"): P.FLOWS_WRITE,
    ("GET", "/api/v1/question-banks/export"): P.FLOWS_READ,
    ("POST", "/api/v1/question-banks/import"): P.FLOWS_WRITE,
    ("GET", "/api/v1/question-banks/template.xlsx"): P.FLOWS_READ,
    ("DELETE", "/api/v1/question-banks/{code}"): P.FLOWS_WRITE,
    ("GET", "/api/v1/question-banks/{code}"): P.FLOWS_READ,
    ("PATCH", "/api/v1/question-banks/{code}"): P.FLOWS_WRITE,
    ("GET", "/api/v1/question-banks/{code}/questions"): P.FLOWS_READ,
    ("POST", "/api/v1/question-banks/{code}/questions"): P.FLOWS_WRITE,
    ("DELETE", "/api/v1/question-banks/{code}/questions/{question_code}"): P.FLOWS_WRITE,
    ("GET", "/api/v1/question-banks/{code}/questions/{question_code}"): P.FLOWS_READ,
    ("PATCH", "/api/v1/question-banks/{code}/questions/{question_code}"): P.FLOWS_WRITE,
    ("POST", "/api/v1/question-banks/{code}/questions/{question_code}/approve"): P.FLOWS_OVERRIDE_REVIEW,
    ("GET", "/api/v1/ready"): PUBLIC,
    ("GET", "/api/v1/recordings"): P.RECORDINGS_READ,
    ("POST", "/api/v1/recordings"): P.RECORDINGS_UPLOAD,
    ("GET", "/api/v1/recordings/{recording_id}"): P.RECORDINGS_READ,
    ("POST", "/api/v1/recordings/{recording_id}/archive-push"): P.EVIDENCE_EXPORT,
    ("GET", "/api/v1/recordings/{recording_id}/evidence-package.zip"): P.EVIDENCE_EXPORT,
    ("GET", "/api/v1/recordings/{recording_id}/evidence/{name}"): P.QC_READ,
    ("GET", "/api/v1/recordings/{recording_id}/litigation.pdf"): P.EVIDENCE_EXPORT,
    ("GET", "/api/v1/recordings/{recording_id}/live-events"): P.QC_READ,
    ("GET", "/api/v1/recordings/{recording_id}/media"): P.RECORDINGS_READ,
    ("GET", "/api/v1/recordings/{recording_id}/report"): P.QC_READ,
    ("GET", "/api/v1/recordings/{recording_id}/report.pdf"): P.QC_READ,
    ("GET", "/api/v1/recordings/{recording_id}/report/patent"): P.QC_READ,
    ("GET", "/api/v1/review/appeals"): P.QC_READ,
    ("POST", "/api/v1/review/appeals"): P.APPEALS_CREATE,
    ("GET", "/api/v1/review/appeals/{appeal_id}"): P.QC_READ,
    ("GET", "/api/v1/review/appeals/{appeal_id}/attachments/{index}"): P.QC_READ,
    ("POST", "/api/v1/review/appeals/{appeal_id}/decision"): P.QC_FINAL_REVIEW,
    ("GET", "/api/v1/review/items"): P.QC_READ,
    ("GET", "/api/v1/review/items/{item_id}"): P.QC_READ,
    ("POST", "/api/v1/review/items/{item_id}/added-findings"): P.QC_REVIEW,
    ("DELETE", "/api/v1/review/items/{item_id}/added-findings/{decision_id}"): P.QC_REVIEW,
    ("PUT", "/api/v1/review/items/{item_id}/assignee"): P.QC_SAMPLE,
    ("POST", "/api/v1/review/items/{item_id}/claim"): P.QC_REVIEW,
    ("POST", "/api/v1/review/items/{item_id}/decision"): P.QC_REVIEW,
    ("POST", "/api/v1/review/items/{item_id}/final"): P.QC_FINAL_REVIEW,
    ("PUT", "/api/v1/review/items/{item_id}/findings/{finding_key}"): P.QC_REVIEW,
    ("GET", "/api/v1/review/recordings/{recording_id}"): P.QC_READ,
    ("GET", "/api/v1/review/reviewers"): P.QC_SAMPLE,
    ("GET", "/api/v1/review/rules"): P.QC_SAMPLE,
    ("POST", "/api/v1/review/rules"): P.QC_SAMPLE,
    ("GET", "/api/v1/review/rules/{rule_id}"): P.QC_SAMPLE,
    ("PUT", "/api/v1/review/rules/{rule_id}"): P.QC_SAMPLE,
    ("POST", "/api/v1/review/rules/{rule_id}/run"): P.QC_SAMPLE,
    ("GET", "/api/v1/review/samples"): P.QC_SAMPLE,
    ("POST", "/api/v1/review/samples"): P.QC_SAMPLE,
    ("POST", "/api/v1/review/samples/preview"): P.QC_SAMPLE,
    ("GET", "/api/v1/review/samples/{sample_id}"): P.QC_SAMPLE,
    ("GET", "/api/v1/review/samples/{sample_id}/reproduction"): P.QC_SAMPLE,
    ("GET", "/api/v1/review/stats"): P.QC_READ,
    ("GET", "/api/v1/review/stats.csv"): P.QC_READ,
    ("GET", "/api/v1/review/thresholds"): P.QC_READ,
    ("GET", "/api/v1/review/high-risk-rules"): P.QC_READ,
    ("POST", "/api/v1/review/high-risk-rules"): P.QC_RULES,
    ("GET", "/api/v1/review/high-risk-rules/{rule_id}"): P.QC_READ,
    ("PUT", "/api/v1/review/high-risk-rules/{rule_id}"): P.QC_RULES,
    ("GET", "/api/v1/review/recordings/{recording_id}/high-risk"): P.QC_READ,
    ("POST", "/api/v1/review/recordings/{recording_id}/high-risk/evaluate"): P.QC_RULES,
    ("GET", "/api/v1/review/notices"): P.QC_READ,
    ("POST", "/api/v1/review/notices/read"): P.QC_READ,
    ("GET", "/api/v1/roles"): P.ROLES_READ,
    ("POST", "/api/v1/roles"): P.ROLES_WRITE,
    ("DELETE", "/api/v1/roles/{role_id}"): P.ROLES_WRITE,
    ("PATCH", "/api/v1/roles/{role_id}"): P.ROLES_WRITE,
    ("GET", "/api/v1/routing-rules"): P.FLOWS_READ,
    ("PUT", "/api/v1/routing-rules"): P.FLOWS_PUBLISH,
    ("GET", "/api/v1/script-templates"): P.FLOWS_READ,
    ("POST", "/api/v1/script-templates"): P.FLOWS_WRITE,
    ("DELETE", "/api/v1/script-templates/{template_id}"): P.FLOWS_WRITE,
    ("GET", "/api/v1/script-templates/{template_id}"): P.FLOWS_READ,
    ("PATCH", "/api/v1/script-templates/{template_id}"): P.FLOWS_WRITE,
    ("GET", "/api/v1/sensitive-words"): P.FLOWS_READ,
    ("PUT", "/api/v1/sensitive-words"): P.FLOWS_OVERRIDE_REVIEW,
    ("GET", "/api/v1/rtc/entry/{token}"): LINK_TOKEN,
    ("POST", "/api/v1/rtc/entry/{token}/join"): LINK_TOKEN,
    ("POST", "/api/v1/rtc/entry/{token}/queue"): LINK_TOKEN,
    ("GET", "/api/v1/rtc/entry/{token}/queue"): LINK_TOKEN,
    ("POST", "/api/v1/rtc/entry/{token}/queue/leave"): LINK_TOKEN,
    ("GET", "/api/v1/rtc/queue"): P.INTERVIEW_CONDUCT,
    ("POST", "/api/v1/rtc/queue/accept-next"): P.INTERVIEW_CONDUCT,
    ("PUT", "/api/v1/rtc/queue/away"): P.INTERVIEW_CONDUCT,
    ("POST", "/api/v1/rtc/queue/{entry_id}/accept"): P.INTERVIEW_CONDUCT,
    ("GET", "/api/v1/rtc/tasks/{task_id}/desk"): P.INTERVIEW_CONDUCT,
    ("POST", "/api/v1/rtc/tasks/{task_id}/marks"): P.INTERVIEW_CONDUCT,
    ("GET", "/api/v1/rtc/agents/{user_id}/skills"): P.USERS_READ,
    ("PUT", "/api/v1/rtc/agents/{user_id}/skills"): P.USERS_WRITE,
    ("POST", "/api/v1/rtc/janus"): JANUS_TOKEN,
    ("GET", "/api/v1/rtc/janus/{session_id}"): JANUS_TOKEN,
    ("POST", "/api/v1/rtc/janus/{session_id}"): JANUS_TOKEN,
    ("POST", "/api/v1/rtc/janus/{session_id}/{handle_id}"): JANUS_TOKEN,
    ("POST", "/api/v1/rtc/tasks/{task_id}/hangup"): P.INTERVIEW_CONDUCT,
    ("POST", "/api/v1/rtc/tasks/{task_id}/join"): P.INTERVIEW_CONDUCT,
    ("POST", "/api/v1/rtc/tasks/{task_id}/quality"): P.INTERVIEW_CONDUCT,
    ("GET", "/api/v1/rtc/tasks/{task_id}/quality"): P.INTERVIEW_CONDUCT,
    ("GET", "/api/v1/rtc/tasks/{task_id}/live"): P.INTERVIEW_CONDUCT,
    ("POST", "/api/v1/rtc/tasks/{task_id}/live/alerts/{event_id}/ack"): P.INTERVIEW_CONDUCT,
    ("POST", "/api/v1/rtc/entry/{token}/quality"): LINK_TOKEN,
    ("GET", "/api/v1/rtc/entry/{token}/desk/state"): LINK_TOKEN,
    ("POST", "/api/v1/rtc/entry/{token}/desk/events"): LINK_TOKEN,
    ("POST", "/api/v1/rtc/entry/{token}/desk/signature"): LINK_TOKEN,
    ("GET", "/api/v1/rtc/entry/{token}/documents/{index}/pages/{page}.jpg"): LINK_TOKEN,
    ("GET", "/api/v1/rtc/tasks/{task_id}/desk/state"): P.INTERVIEW_CONDUCT,
    ("POST", "/api/v1/rtc/tasks/{task_id}/desk/events"): P.INTERVIEW_CONDUCT,
    ("GET", "/api/v1/rtc/tasks/{task_id}/documents/{index}/pages/{page}.jpg"): P.INTERVIEW_CONDUCT,
    ("GET", "/api/v1/session/{token}"): LINK_TOKEN,
    ("PUT", "/api/v1/session/{token}/chunks/{segment}/{seq}"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/connect"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/consent"): LINK_TOKEN,
    ("GET", "/api/v1/session/{token}/documents/{index}/pages/{page}.jpg"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/documents/{index}/pages/{page}/read"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/finish"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/help"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/id-card/{side}"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/liveness"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/nodes/{node_id}/copy"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/nodes/{node_id}/outcome"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/nodes/{node_id}/speech"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/prompts"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/resume"): LINK_TOKEN,
    ("POST", "/api/v1/session/{token}/signature"): LINK_TOKEN,
    ("GET", "/api/v1/session/{token}/speech/{node_id}.wav"): LINK_TOKEN,
    ("GET", "/api/v1/system/jobs/{job_id}"): P.JOBS_READ,
    ("GET", "/api/v1/system/settings"): P.SETTINGS_READ,
    ("GET", "/api/v1/tasks"): P.TASKS_READ,
    ("POST", "/api/v1/tasks"): P.TASKS_WRITE,
    ("GET", "/api/v1/tasks/{task_id}"): P.TASKS_READ,
    ("GET", "/api/v1/tasks/{task_id}/attempts/{attempt}/signed-documents/{index}"): P.TASKS_READ,
    ("POST", "/api/v1/tasks/{task_id}/cancel"): P.TASKS_WRITE,
    ("POST", "/api/v1/tasks/{task_id}/link"): P.TASKS_WRITE,
    ("POST", "/api/v1/tasks/{task_id}/reset"): P.TASKS_WRITE,
    ("GET", "/api/v1/users"): P.USERS_READ,
    ("POST", "/api/v1/users"): P.USERS_WRITE,
    ("DELETE", "/api/v1/users/{user_id}"): P.USERS_WRITE,
    ("GET", "/api/v1/users/{user_id}"): P.USERS_READ,
    ("PATCH", "/api/v1/users/{user_id}"): P.USERS_WRITE,
    ("POST", "/api/v1/users/{user_id}/unlock"): P.USERS_WRITE,
    ("GET", "/api/v1/webhook-deliveries"): P.APIKEYS_MANAGE,
    ("GET", "/api/v1/webhook-deliveries/{delivery_id}"): P.APIKEYS_MANAGE,
    ("POST", "/api/v1/webhook-deliveries/{delivery_id}/resend"): P.APIKEYS_MANAGE,
}
PUBLIC_OPS = {op for op, required in REQUIRED.items() if required == PUBLIC}
LINK_OPS = {op for op, required in REQUIRED.items() if required == LINK_TOKEN}
JANUS_OPS = {op for op, required in REQUIRED.items() if required == JANUS_TOKEN}
SESSION_ONLY = {op for op, required in REQUIRED.items() if required == ANY_USER}
GUARDED = {op: required for op, required in REQUIRED.items() if isinstance(required, Permission)}


def _ids(container: Container) -> dict[str, Any]:
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
        target = uow.users.by_username("target")
        assert bj and target
        return {"branch": bj.id, "user": target.id}


NO_SUCH_RECORDING = "00000000-0000-4000-8000-000000000000"
ARCHIVE_ENTRY = f"/api/v1/archive/entries/{NO_SUCH_RECORDING}"
ARCHIVE_REQUEST = f"/api/v1/archive/deletion-requests/{NO_SUCH_RECORDING}"
ARCHIVE_CASES: dict[tuple[str, str], Callable[[dict[str, Any]], tuple[str, Any]]] = {
    ("GET", "/api/v1/archive/entries"): lambda i: ("/api/v1/archive/entries", None),
    ("GET", "/api/v1/archive/entries/export"): lambda i: ("/api/v1/archive/entries/export", None),
    ("GET", "/api/v1/archive/entries/{recording_id}"): lambda i: (ARCHIVE_ENTRY, None),
    ("PATCH", "/api/v1/archive/entries/{recording_id}"): lambda i: (ARCHIVE_ENTRY, {"secrecy_level": "内部"}),
    ("GET", "/api/v1/archive/entries/{recording_id}/export"): lambda i: (f"{ARCHIVE_ENTRY}/export", None),
    ("PUT", "/api/v1/archive/entries/{recording_id}/legal-hold"): lambda i: (
        f"{ARCHIVE_ENTRY}/legal-hold",
        {"hold": True, "reason": "诉讼"},
    ),
    ("POST", "/api/v1/archive/entries/{recording_id}/deletion-requests"): lambda i: (
        f"{ARCHIVE_ENTRY}/deletion-requests",
        {"reason": "到期"},
    ),
    ("GET", "/api/v1/archive/deletion-requests"): lambda i: ("/api/v1/archive/deletion-requests", None),
    ("GET", "/api/v1/archive/deletion-requests/{request_id}"): lambda i: (ARCHIVE_REQUEST, None),
    ("POST", "/api/v1/archive/deletion-requests/{request_id}/decision"): lambda i: (
        f"{ARCHIVE_REQUEST}/decision",
        {"decision": "approve"},
    ),
    ("POST", "/api/v1/archive/deletion-requests/{request_id}/cancel"): lambda i: (
        f"{ARCHIVE_REQUEST}/cancel",
        None,
    ),
    ("GET", "/api/v1/archive/approval-chain"): lambda i: ("/api/v1/archive/approval-chain", None),
    ("PUT", "/api/v1/archive/approval-chain"): lambda i: (
        "/api/v1/archive/approval-chain",
        {"steps": [{"role": "branch_supervisor"}, {"role": "compliance"}, {"role": "admin"}]},
    ),
    ("GET", "/api/v1/archive/retention-policies"): lambda i: ("/api/v1/archive/retention-policies", None),
    ("PUT", "/api/v1/archive/retention-policies/{business_type}"): lambda i: (
        "/api/v1/archive/retention-policies/rbac_test",
        {"code": "D10", "basis": "recorded_at"},
    ),
    ("DELETE", "/api/v1/archive/retention-policies/{business_type}"): lambda i: (
        "/api/v1/archive/retention-policies/no_such_type",
        None,
    ),
    ("GET", "/api/v1/archive/expiring"): lambda i: ("/api/v1/archive/expiring", None),
    ("GET", "/api/v1/archive/notices"): lambda i: ("/api/v1/archive/notices", None),
}
REVIEW_ITEM = "/api/v1/review/items/999999"
REVIEW_APPEAL = "/api/v1/review/appeals/999999"
REVIEW_PLAN = {"plan": {"rates": {"FAIL": 100}}}
REVIEW_HIGH_RISK = {"name": "高风险", "conditions": {"risk_min": 60}, "notify_roles": ["qc_manager"]}
REVIEW_CASES: dict[tuple[str, str], Callable[[dict[str, Any]], tuple[str, Any]]] = {
    ("GET", "/api/v1/review/appeals"): lambda i: ("/api/v1/review/appeals", None),
    ("POST", "/api/v1/review/appeals"): lambda i: ("/api/v1/review/appeals", None),
    ("GET", "/api/v1/review/appeals/{appeal_id}"): lambda i: (REVIEW_APPEAL, None),
    ("GET", "/api/v1/review/appeals/{appeal_id}/attachments/{index}"): lambda i: (
        f"{REVIEW_APPEAL}/attachments/0",
        None,
    ),
    ("POST", "/api/v1/review/appeals/{appeal_id}/decision"): lambda i: (
        f"{REVIEW_APPEAL}/decision",
        {"decision": "reject", "reason": "证据不足"},
    ),
    ("GET", "/api/v1/review/items"): lambda i: ("/api/v1/review/items", None),
    ("GET", "/api/v1/review/items/{item_id}"): lambda i: (REVIEW_ITEM, None),
    ("POST", "/api/v1/review/items/{item_id}/added-findings"): lambda i: (
        f"{REVIEW_ITEM}/added-findings",
        {"check_id": "script", "start": 1, "end": 2, "note": "漏读风险提示"},
    ),
    ("DELETE", "/api/v1/review/items/{item_id}/added-findings/{decision_id}"): lambda i: (
        f"{REVIEW_ITEM}/added-findings/1",
        None,
    ),
    ("PUT", "/api/v1/review/items/{item_id}/assignee"): lambda i: (
        f"{REVIEW_ITEM}/assignee",
        {"user_id": None},
    ),
    ("POST", "/api/v1/review/items/{item_id}/claim"): lambda i: (f"{REVIEW_ITEM}/claim", None),
    ("POST", "/api/v1/review/items/{item_id}/decision"): lambda i: (
        f"{REVIEW_ITEM}/decision",
        {"decision": "pass"},
    ),
    ("POST", "/api/v1/review/items/{item_id}/final"): lambda i: (
        f"{REVIEW_ITEM}/final",
        {"decision": "fail"},
    ),
    ("PUT", "/api/v1/review/items/{item_id}/findings/{finding_key}"): lambda i: (
        f"{REVIEW_ITEM}/findings/black_screen:0",
        {"action": "confirm"},
    ),
    ("GET", "/api/v1/review/recordings/{recording_id}"): lambda i: (
        f"/api/v1/review/recordings/{NO_SUCH_RECORDING}",
        None,
    ),
    ("GET", "/api/v1/review/reviewers"): lambda i: ("/api/v1/review/reviewers", None),
    ("GET", "/api/v1/review/rules"): lambda i: ("/api/v1/review/rules", None),
    ("POST", "/api/v1/review/rules"): lambda i: ("/api/v1/review/rules", {"name": "每日抽检", **REVIEW_PLAN}),
    ("GET", "/api/v1/review/rules/{rule_id}"): lambda i: ("/api/v1/review/rules/999999", None),
    ("PUT", "/api/v1/review/rules/{rule_id}"): lambda i: (
        "/api/v1/review/rules/999999",
        {"name": "每日抽检", **REVIEW_PLAN},
    ),
    ("POST", "/api/v1/review/rules/{rule_id}/run"): lambda i: ("/api/v1/review/rules/999999/run", {}),
    ("GET", "/api/v1/review/samples"): lambda i: ("/api/v1/review/samples", None),
    ("POST", "/api/v1/review/samples"): lambda i: ("/api/v1/review/samples", REVIEW_PLAN),
    ("POST", "/api/v1/review/samples/preview"): lambda i: ("/api/v1/review/samples/preview", REVIEW_PLAN),
    ("GET", "/api/v1/review/samples/{sample_id}"): lambda i: ("/api/v1/review/samples/999999", None),
    ("GET", "/api/v1/review/samples/{sample_id}/reproduction"): lambda i: (
        "/api/v1/review/samples/999999/reproduction",
        None,
    ),
    ("GET", "/api/v1/review/stats"): lambda i: ("/api/v1/review/stats", None),
    ("GET", "/api/v1/review/stats.csv"): lambda i: ("/api/v1/review/stats.csv", None),
    ("GET", "/api/v1/review/thresholds"): lambda i: ("/api/v1/review/thresholds", None),
    ("GET", "/api/v1/review/high-risk-rules"): lambda i: ("/api/v1/review/high-risk-rules", None),
    ("POST", "/api/v1/review/high-risk-rules"): lambda i: (
        "/api/v1/review/high-risk-rules",
        REVIEW_HIGH_RISK,
    ),
    ("GET", "/api/v1/review/high-risk-rules/{rule_id}"): lambda i: (
        "/api/v1/review/high-risk-rules/999999",
        None,
    ),
    ("PUT", "/api/v1/review/high-risk-rules/{rule_id}"): lambda i: (
        "/api/v1/review/high-risk-rules/999999",
        REVIEW_HIGH_RISK,
    ),
    ("GET", "/api/v1/review/recordings/{recording_id}/high-risk"): lambda i: (
        f"/api/v1/review/recordings/{NO_SUCH_RECORDING}/high-risk",
        None,
    ),
    ("POST", "/api/v1/review/recordings/{recording_id}/high-risk/evaluate"): lambda i: (
        f"/api/v1/review/recordings/{NO_SUCH_RECORDING}/high-risk/evaluate",
        None,
    ),
    ("GET", "/api/v1/review/notices"): lambda i: ("/api/v1/review/notices", None),
    ("POST", "/api/v1/review/notices/read"): lambda i: ("/api/v1/review/notices/read", {"ids": None}),
}
QB_QUESTIONS = "/api/v1/question-banks/no-such-bank/questions"

# (method, path template) -> builds (url, json body) from the ids of objects made for the test
CASES: dict[tuple[str, str], Callable[[dict[str, Any]], tuple[str, Any]]] = {
    ("GET", "/api/v1/users"): lambda i: ("/api/v1/users", None),
    ("POST", "/api/v1/users"): lambda i: (
        "/api/v1/users",
        {
            "username": "new_" + i["role"],
            "display_name": "新用户",
            "password": "Passw0rd-new",
            "role": "interviewer",
            "branch_id": i["branch"],
        },
    ),
    ("GET", "/api/v1/users/{user_id}"): lambda i: (f"/api/v1/users/{i['user']}", None),
    ("PATCH", "/api/v1/users/{user_id}"): lambda i: (f"/api/v1/users/{i['user']}", {"display_name": "改名"}),
    ("DELETE", "/api/v1/users/{user_id}"): lambda i: (f"/api/v1/users/{i['user']}", None),
    ("POST", "/api/v1/users/{user_id}/unlock"): lambda i: (f"/api/v1/users/{i['user']}/unlock", None),
    ("GET", "/api/v1/permissions"): lambda i: ("/api/v1/permissions", None),
    ("GET", "/api/v1/roles"): lambda i: ("/api/v1/roles", None),
    ("POST", "/api/v1/roles"): lambda i: (
        "/api/v1/roles",
        {
            "id": "viewer_" + i["role"],
            "name_zh": "查看者",
            "name_en": "Viewer",
            "permissions": ["tasks:read"],
        },
    ),
    ("PATCH", "/api/v1/roles/{role_id}"): lambda i: ("/api/v1/roles/custom_viewer", {"name_en": "Viewer 2"}),
    ("DELETE", "/api/v1/roles/{role_id}"): lambda i: ("/api/v1/roles/custom_viewer", None),
    ("GET", "/api/v1/branches"): lambda i: ("/api/v1/branches", None),
    ("POST", "/api/v1/branches"): lambda i: (
        "/api/v1/branches",
        {"name": "新网点", "code": "NEW-" + i["role"], "parent_id": i["branch"]},
    ),
    ("PATCH", "/api/v1/branches/{branch_id}"): lambda i: (
        f"/api/v1/branches/{i['branch']}",
        {"name": "北京分行"},
    ),
    ("DELETE", "/api/v1/branches/{branch_id}"): lambda i: (f"/api/v1/branches/{i['branch']}", None),
    ("GET", "/api/v1/audit-events"): lambda i: ("/api/v1/audit-events", None),
    ("GET", "/api/v1/audit-events/export.csv"): lambda i: ("/api/v1/audit-events/export.csv", None),
    ("GET", "/api/v1/api-keys"): lambda i: ("/api/v1/api-keys", None),
    ("POST", "/api/v1/api-keys"): lambda i: (
        "/api/v1/api-keys",
        {"name": "核心系统", "branch_id": i["branch"], "business_types": ["wealth"]},
    ),
    ("DELETE", "/api/v1/api-keys/{key_id}"): lambda i: ("/api/v1/api-keys/dk_missing", None),
    ("POST", "/api/v1/recordings"): lambda i: ("/api/v1/recordings", None),
    ("GET", "/api/v1/recordings/{recording_id}/media"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/media",
        None,
    ),
    ("GET", "/api/v1/webhook-deliveries"): lambda i: ("/api/v1/webhook-deliveries", None),
    ("GET", "/api/v1/webhook-deliveries/{delivery_id}"): lambda i: (
        f"/api/v1/webhook-deliveries/{NO_SUCH_RECORDING}",
        None,
    ),
    ("POST", "/api/v1/webhook-deliveries/{delivery_id}/resend"): lambda i: (
        f"/api/v1/webhook-deliveries/{NO_SUCH_RECORDING}/resend",
        None,
    ),
    ("GET", "/api/v1/system/settings"): lambda i: ("/api/v1/system/settings", None),
    ("GET", "/api/v1/system/jobs/{job_id}"): lambda i: (f"/api/v1/system/jobs/{NO_SUCH_RECORDING}", None),
    ("GET", "/api/v1/recordings"): lambda i: ("/api/v1/recordings", None),
    ("GET", "/api/v1/recordings/{recording_id}"): lambda i: (f"/api/v1/recordings/{NO_SUCH_RECORDING}", None),
    ("GET", "/api/v1/recordings/{recording_id}/report"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/report",
        None,
    ),
    ("GET", "/api/v1/recordings/{recording_id}/report/patent"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/report/patent",
        None,
    ),
    ("GET", "/api/v1/recordings/{recording_id}/report.pdf"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/report.pdf",
        None,
    ),
    ("GET", "/api/v1/recordings/{recording_id}/evidence/{name}"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/evidence/frame.jpg",
        None,
    ),
    ("GET", "/api/v1/recordings/{recording_id}/live-events"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/live-events",
        None,
    ),
    ("GET", "/api/v1/recordings/{recording_id}/litigation.pdf"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/litigation.pdf",
        None,
    ),
    ("GET", "/api/v1/recordings/{recording_id}/evidence-package.zip"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/evidence-package.zip",
        None,
    ),
    ("POST", "/api/v1/recordings/{recording_id}/archive-push"): lambda i: (
        f"/api/v1/recordings/{NO_SUCH_RECORDING}/archive-push",
        None,
    ),
    ("GET", "/api/v1/archive-pushes/{job_id}"): lambda i: (
        f"/api/v1/archive-pushes/{NO_SUCH_RECORDING}",
        None,
    ),
    ("GET", "/api/v1/litigation/settings"): lambda i: ("/api/v1/litigation/settings", None),
    ("GET", "/api/v1/litigation/certificate.pem"): lambda i: ("/api/v1/litigation/certificate.pem", None),
    **{
        ("GET", f"/api/v1/audit-exports/{log}{ext}"): (lambda url: lambda i: (url, None))(
            f"/api/v1/audit-exports/{log}{ext}"
        )
        for log in ("operations", "litigation")
        for ext in ("", ".csv", ".pdf")
    },
    ("GET", "/api/v1/question-banks"): lambda i: ("/api/v1/question-banks", None),
    ("POST", "/api/v1/question-banks"): lambda i: (
        "/api/v1/question-banks",
        {"code": "qb-" + i["role"].replace("_", "-"), "name": "题库"},
    ),
    ("GET", "/api/v1/question-banks/{code}"): lambda i: ("/api/v1/question-banks/no-such-bank", None),
    ("PATCH", "/api/v1/question-banks/{code}"): lambda i: (
        "/api/v1/question-banks/no-such-bank",
        {"name": "x"},
    ),
    ("DELETE", "/api/v1/question-banks/{code}"): lambda i: ("/api/v1/question-banks/no-such-bank", None),
    ("GET", "/api/v1/question-banks/{code}/questions"): lambda i: (QB_QUESTIONS, None),
    ("POST", "/api/v1/question-banks/{code}/questions"): lambda i: (
        QB_QUESTIONS,
        {"code": "Q1", "text": "您是否本人自愿？", "answers": [{"text": "是"}]},
    ),
    ("GET", "/api/v1/question-banks/{code}/questions/{question_code}"): lambda i: (
        QB_QUESTIONS + "/Q1",
        None,
    ),
    ("PATCH", "/api/v1/question-banks/{code}/questions/{question_code}"): lambda i: (
        QB_QUESTIONS + "/Q1",
        {"difficulty": 2},
    ),
    ("DELETE", "/api/v1/question-banks/{code}/questions/{question_code}"): lambda i: (
        QB_QUESTIONS + "/Q1",
        None,
    ),
    ("POST", "/api/v1/question-banks/{code}/questions/{question_code}/approve"): lambda i: (
        QB_QUESTIONS + "/Q1/approve",
        {"reason": "已复核"},
    ),
    ("POST", "/api/v1/question-banks/import"): lambda i: ("/api/v1/question-banks/import", None),
    ("GET", "/api/v1/question-banks/export"): lambda i: ("/api/v1/question-banks/export", None),
    ("GET", "/api/v1/question-banks/template.xlsx"): lambda i: ("/api/v1/question-banks/template.xlsx", None),
    ("GET", "/api/v1/script-templates"): lambda i: ("/api/v1/script-templates", None),
    ("POST", "/api/v1/script-templates"): lambda i: (
        "/api/v1/script-templates",
        {"business_type": "wealth", "node_type": "qa", "title": "t-" + i["role"], "text": "请问您是否本人？"},
    ),
    ("GET", "/api/v1/script-templates/{template_id}"): lambda i: ("/api/v1/script-templates/999999", None),
    ("PATCH", "/api/v1/script-templates/{template_id}"): lambda i: (
        "/api/v1/script-templates/999999",
        {"text": "x"},
    ),
    ("DELETE", "/api/v1/script-templates/{template_id}"): lambda i: ("/api/v1/script-templates/999999", None),
    ("GET", "/api/v1/flows"): lambda i: ("/api/v1/flows", None),
    ("POST", "/api/v1/flows"): lambda i: (
        "/api/v1/flows",
        {
            "code": "f-" + i["role"].replace("_", "-"),
            "name": "流程",
            "definition": {"nodes": [{"id": "e", "type": "end"}]},
        },
    ),
    ("GET", "/api/v1/flows/{code}"): lambda i: ("/api/v1/flows/no-such-flow", None),
    ("PUT", "/api/v1/flows/{code}"): lambda i: (
        "/api/v1/flows/no-such-flow",
        {"name": "流程", "definition": {"nodes": [{"id": "e", "type": "end"}]}},
    ),
    ("POST", "/api/v1/flows/{code}/publish"): lambda i: ("/api/v1/flows/no-such-flow/publish", {}),
    ("POST", "/api/v1/flows/{code}/archive"): lambda i: ("/api/v1/flows/no-such-flow/archive", None),
    ("GET", "/api/v1/flows/{code}/versions"): lambda i: ("/api/v1/flows/no-such-flow/versions", None),
    ("GET", "/api/v1/flows/{code}/versions/{version}"): lambda i: (
        "/api/v1/flows/no-such-flow/versions/1",
        None,
    ),
    ("GET", "/api/v1/node-types"): lambda i: ("/api/v1/node-types", None),
    ("GET", "/api/v1/routing-rules"): lambda i: ("/api/v1/routing-rules", None),
    ("PUT", "/api/v1/routing-rules"): lambda i: ("/api/v1/routing-rules", {"rules": []}),
    ("GET", "/api/v1/sensitive-words"): lambda i: ("/api/v1/sensitive-words", None),
    ("PUT", "/api/v1/sensitive-words"): lambda i: ("/api/v1/sensitive-words", {"words": ["保本", "稳赚"]}),
    ("GET", "/api/v1/tasks"): lambda i: ("/api/v1/tasks", None),
    ("POST", "/api/v1/tasks"): lambda i: ("/api/v1/tasks", {"customer_id": "x"}),
    ("GET", "/api/v1/tasks/{task_id}"): lambda i: (f"/api/v1/tasks/{NO_SUCH_RECORDING}", None),
    ("GET", "/api/v1/tasks/{task_id}/attempts/{attempt}/signed-documents/{index}"): lambda i: (
        f"/api/v1/tasks/{NO_SUCH_RECORDING}/attempts/1/signed-documents/0",
        None,
    ),
    ("POST", "/api/v1/tasks/{task_id}/reset"): lambda i: (
        f"/api/v1/tasks/{NO_SUCH_RECORDING}/reset",
        {"reason": "合同变更"},
    ),
    ("POST", "/api/v1/tasks/{task_id}/cancel"): lambda i: (f"/api/v1/tasks/{NO_SUCH_RECORDING}/cancel", {}),
    ("POST", "/api/v1/tasks/{task_id}/link"): lambda i: (f"/api/v1/tasks/{NO_SUCH_RECORDING}/link", None),
    ("POST", "/api/v1/rtc/tasks/{task_id}/join"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/join",
        None,
    ),
    ("POST", "/api/v1/rtc/tasks/{task_id}/hangup"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/hangup",
        None,
    ),
    ("POST", "/api/v1/rtc/tasks/{task_id}/quality"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/quality",
        {"t": 1.0},
    ),
    ("GET", "/api/v1/rtc/tasks/{task_id}/quality"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/quality",
        None,
    ),
    ("GET", "/api/v1/rtc/tasks/{task_id}/live"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/live",
        None,
    ),
    ("POST", "/api/v1/rtc/tasks/{task_id}/live/alerts/{event_id}/ack"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/live/alerts/1/ack",
        None,
    ),
    ("GET", "/api/v1/rtc/queue"): lambda i: ("/api/v1/rtc/queue", None),
    ("POST", "/api/v1/rtc/queue/accept-next"): lambda i: ("/api/v1/rtc/queue/accept-next", None),
    ("PUT", "/api/v1/rtc/queue/away"): lambda i: ("/api/v1/rtc/queue/away", {"away": False}),
    ("POST", "/api/v1/rtc/queue/{entry_id}/accept"): lambda i: ("/api/v1/rtc/queue/999999/accept", None),
    ("GET", "/api/v1/rtc/tasks/{task_id}/desk"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/desk",
        None,
    ),
    ("POST", "/api/v1/rtc/tasks/{task_id}/marks"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/marks",
        {"node_id": "risk", "kind": "start"},
    ),
    ("GET", "/api/v1/rtc/tasks/{task_id}/desk/state"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/desk/state",
        None,
    ),
    ("POST", "/api/v1/rtc/tasks/{task_id}/desk/events"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/desk/events",
        {"kind": "clear"},
    ),
    ("GET", "/api/v1/rtc/tasks/{task_id}/documents/{index}/pages/{page}.jpg"): lambda i: (
        f"/api/v1/rtc/tasks/{NO_SUCH_RECORDING}/documents/0/pages/1.jpg",
        None,
    ),
    ("GET", "/api/v1/rtc/agents/{user_id}/skills"): lambda i: (
        f"/api/v1/rtc/agents/{i['user']}/skills",
        None,
    ),
    ("PUT", "/api/v1/rtc/agents/{user_id}/skills"): lambda i: (
        f"/api/v1/rtc/agents/{i['user']}/skills",
        {"skill_groups": ["wealth"]},
    ),
    ("POST", "/api/v1/agent-uploads"): lambda i: ("/api/v1/agent-uploads", {"manifest": {}}),
    ("PUT", "/api/v1/agent-uploads/{upload_id}/content"): lambda i: (
        f"/api/v1/agent-uploads/{NO_SUCH_RECORDING}/content",
        None,
    ),
    ("GET", "/api/v1/agent-uploads"): lambda i: ("/api/v1/agent-uploads", None),
    ("GET", "/api/v1/agent-uploads/{upload_id}"): lambda i: (
        f"/api/v1/agent-uploads/{NO_SUCH_RECORDING}",
        None,
    ),
    ("GET", "/api/v1/agent-uploads/{upload_id}/report"): lambda i: (
        f"/api/v1/agent-uploads/{NO_SUCH_RECORDING}/report",
        None,
    ),
    ("GET", "/api/v1/agent-uploads/{upload_id}/report/patent"): lambda i: (
        f"/api/v1/agent-uploads/{NO_SUCH_RECORDING}/report/patent",
        None,
    ),
    ("GET", "/api/v1/integrity-audit"): lambda i: ("/api/v1/integrity-audit", None),
    ("POST", "/api/v1/integrity-audit/runs"): lambda i: ("/api/v1/integrity-audit/runs", None),
    **ARCHIVE_CASES,
    **REVIEW_CASES,
}


def _operations(client: TestClient) -> dict[tuple[str, str], str | None]:
    spec = client.get("/api/v1/openapi.json").json()
    return {
        (m.upper(), path): op.get("x-required-permission")
        for path, ops in spec["paths"].items()
        for m, op in ops.items()
    }


def test_the_reviewed_table_lists_exactly_the_apps_operations(app_client: TestClient) -> None:
    ops = _operations(app_client)
    unlisted, gone = sorted(set(ops) - set(REQUIRED)), sorted(set(REQUIRED) - set(ops))
    assert not unlisted, f"new operations need a reviewed row in REQUIRED: {unlisted}"
    assert not gone, f"operations in REQUIRED the app no longer has: {gone}"
    # the published documentation (x-required-permission) says the same as the table
    published = {op: GUARDED.get(op) for op in REQUIRED}
    assert {op: (p and Permission(p)) for op, p in ops.items()} == published
    missing_cases = set(GUARDED) - set(CASES)
    assert not missing_cases, f"add RBAC cases for: {sorted(missing_cases)}"


def _call(client: TestClient, op: tuple[str, str], ids: dict[str, Any]) -> Any:
    url, body = CASES[op](ids)
    return client.request(op[0], url, json=body, headers=CSRF)


def _assert_denied(r: Any, who: str, op: tuple[str, str], permission: Permission) -> None:
    assert r.status_code == 403, f"{who} must be denied {op}, got {r.status_code}"
    problem = r.json()
    assert problem["code"] == "forbidden" and problem["permission"] == permission.value, f"{op}: {problem}"
    allowed = {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "message_key",
        "params",
        "request_id",
        "permission",
    }
    assert set(problem) <= allowed, f"{op}: {problem}"
    # the message's parameters never echo more than the permission (no data of the refused operation)
    assert {str(v) for v in (problem.get("params") or {}).values()} <= {permission.value}, f"{op}: {problem}"


def _setup(container: Container, make_user: Callable[..., str]) -> None:
    make_user("target", "interviewer", "BJ")
    with container.uows() as uow:
        uow.roles.add(CustomRole("custom_viewer", "查看者", "Viewer", frozenset({Permission.TASKS_READ})))
        uow.roles.add(CustomRole("nothing", "无权限", "No permissions", frozenset()))
        uow.commit()


@pytest.mark.parametrize("role", sorted(BUILTIN_ROLES))
def test_role_matrix(
    role: str, app_client: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    _setup(container, make_user)
    make_user(f"u_{role}", role, "HQ")
    login(app_client, f"u_{role}")
    ids = {**_ids(container), "role": role}
    allowed = BUILTIN_ROLES[role].permissions
    for op, permission in sorted(GUARDED.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        r = _call(app_client, op, ids)
        if permission in allowed:
            assert r.status_code != 403, f"{role} should be allowed {op}: {r.text}"
            assert r.status_code < 500, f"{op} -> {r.status_code}: {r.text}"
        else:
            _assert_denied(r, role, op, permission)


def test_each_operation_is_guarded_by_exactly_its_permission(
    app_client: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    """A user holding no permission is refused every guarded operation, each naming the table's
    permission; one holding only that permission gets past the guard (sampled: one per permission)."""
    _setup(container, make_user)
    make_user("u_nothing", "nothing", "HQ")
    login(app_client, "u_nothing")
    ids = {**_ids(container), "role": "nothing"}
    for op, permission in sorted(GUARDED.items()):
        _assert_denied(_call(app_client, op, ids), "a user without permissions", op, permission)
    # what any logged-in user may do, whatever their permissions
    assert app_client.get("/api/v1/auth/me").json()["permissions"] == []
    r = app_client.post("/api/v1/auth/password", json={"old_password": "Not-mine-123", "new_password": "x"})
    assert r.status_code == 422
    assert app_client.post("/api/v1/auth/logout").status_code == 204
    # a role holding only the table's permission passes the guard (first operation of each permission)
    first: dict[Permission, tuple[str, str]] = {}
    for op, permission in sorted(GUARDED.items()):
        first.setdefault(permission, op)
    with container.uows() as uow:
        for permission in first:
            role_id = "only_" + permission.value.replace(":", "_")
            uow.roles.add(CustomRole(role_id, role_id, role_id, frozenset({permission})))
        uow.commit()
    for permission, op in sorted(first.items()):
        role_id = "only_" + permission.value.replace(":", "_")
        make_user("u_" + role_id, role_id, "HQ")
        client = login(TestClient(app_client.app), "u_" + role_id, PASSWORD)
        r = _call(client, op, {**ids, "role": role_id})
        guard_denied = r.status_code == 403 and r.json().get("permission") == permission.value
        assert not guard_denied and r.status_code < 500, f"{role_id} on {op}: {r.status_code} {r.text}"


def test_denials_are_audited(app_client: TestClient, make_user: Callable[..., str]) -> None:
    make_user("iv", "interviewer", "BJ")
    login(app_client, "iv")
    assert app_client.get("/api/v1/users").status_code == 403
    app_client.post("/api/v1/auth/logout")
    login(app_client, "admin", "Admin-pass-123")
    events = app_client.get("/api/v1/audit-events", params={"action": "auth.permission_denied"}).json()[
        "items"
    ]
    assert events and events[0]["actor"] == "iv" and events[0]["details"]["permission"] == "users:read"
    assert events[0]["target_id"] == "GET /api/v1/users"


def test_unauthenticated_gets_401_everywhere(app_client: TestClient) -> None:
    ops = _operations(app_client)
    for method, template in ops:
        if (method, template) in PUBLIC_OPS | LINK_OPS | JANUS_OPS:
            continue  # token-authenticated: tests/integration/test_live_session_api.py, test_rtc.py
        url = template.replace("{user_id}", "1").replace("{role_id}", "x").replace("{branch_id}", "1")
        url = (
            url.replace("{key_id}", "x")
            .replace("{recording_id}", NO_SUCH_RECORDING)
            .replace("{name}", "a.jpg")
            .replace("{job_id}", NO_SUCH_RECORDING)
        )
        r = app_client.request(method, url, json={} if method in ("POST", "PATCH") else None)
        assert r.status_code == 401, f"{method} {url} -> {r.status_code}"
        assert r.headers["content-type"].startswith("application/problem+json")


class TestBranchScoping:
    """A supervisor of 北京分行 sees BJ and below; 上海 data is invisible (404, never data)."""

    @pytest.fixture
    def bj_client(self, app_client: TestClient, make_user: Callable[..., str]) -> TestClient:
        make_user("sh_user", "interviewer", "SH-PD")
        make_user("bj_user", "interviewer", "BJ-CY")
        make_user("bj_boss", "branch_supervisor", "BJ")
        return login(app_client, "bj_boss")

    def test_lists_only_subtree(self, bj_client: TestClient) -> None:
        names = {
            u["username"] for u in bj_client.get("/api/v1/users", params={"page_size": 200}).json()["items"]
        }
        assert names == {"bj_user", "bj_boss"}
        codes = {b["code"] for b in bj_client.get("/api/v1/branches").json()}
        assert codes == {"BJ", "BJ-CY"}

    def test_other_branch_user_is_not_found(self, bj_client: TestClient, container: Container) -> None:
        with container.uows() as uow:
            sh_user = uow.users.by_username("sh_user")
            sh = uow.branches.by_code("SH")
        assert sh_user and sh
        r = bj_client.get(f"/api/v1/users/{sh_user.id}")
        assert r.status_code == 404 and "sh_user" not in r.text
        r = bj_client.get("/api/v1/users", params={"branch_id": sh.id})
        assert r.status_code == 404 and "sh_user" not in r.text

    def test_admin_of_a_branch_cannot_write_outside_it(
        self, app_client: TestClient, container: Container, make_user: Callable[..., str]
    ) -> None:
        make_user("sh_user", "interviewer", "SH-PD")
        make_user("bj_admin", "admin", "BJ")
        login(app_client, "bj_admin")
        with container.uows() as uow:
            sh_user = uow.users.by_username("sh_user")
            sh = uow.branches.by_code("SH")
        assert sh_user and sh
        assert app_client.patch(f"/api/v1/users/{sh_user.id}", json={"display_name": "x"}).status_code == 404
        assert app_client.delete(f"/api/v1/users/{sh_user.id}").status_code == 404
        r = app_client.post(
            "/api/v1/users",
            json={
                "username": "sneaky",
                "display_name": "s",
                "password": "Passw0rd-new",
                "role": "interviewer",
                "branch_id": sh.id,
            },
        )
        assert r.status_code == 404
        r = app_client.post("/api/v1/branches", json={"name": "x", "code": "X1", "parent_id": sh.id})
        assert r.status_code == 404
        with container.uows() as uow:
            assert uow.users.by_username("sneaky") is None
            unchanged = uow.users.get(sh_user.id)
        assert unchanged and unchanged.display_name == "sh_user"
