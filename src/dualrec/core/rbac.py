"""Roles, permissions and the permission matrix (pure data + pure functions).

Every API endpoint declares the one permission it needs; the matrix below is the single source of
truth for the built-in roles. Custom roles (stored in the database) hold any subset of
``PERMISSIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BUILTIN_ROLES",
    "PERMISSIONS",
    "Permission",
    "PermissionInfo",
    "RoleInfo",
    "is_valid_role_id",
    "role_permissions",
]


class Permission(StrEnum):
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    ROLES_READ = "roles:read"
    ROLES_WRITE = "roles:write"
    BRANCHES_READ = "branches:read"
    BRANCHES_WRITE = "branches:write"
    AUDIT_READ = "audit:read"
    SETTINGS_READ = "settings:read"
    SETTINGS_WRITE = "settings:write"
    APIKEYS_MANAGE = "apikeys:manage"
    FLOWS_READ = "flows:read"
    FLOWS_WRITE = "flows:write"
    FLOWS_PUBLISH = "flows:publish"
    FLOWS_OVERRIDE_REVIEW = "flows:override_review"
    TASKS_READ = "tasks:read"
    TASKS_WRITE = "tasks:write"
    RECORDINGS_READ = "recordings:read"
    RECORDINGS_UPLOAD = "recordings:upload"
    QC_READ = "qc:read"
    QC_REVIEW = "qc:review"
    QC_SAMPLE = "qc:sample"
    QC_FINAL_REVIEW = "qc:final_review"
    QC_RULES = "qc:rules"  # high-risk rules (高风险规则): edit, re-evaluate a recording
    APPEALS_CREATE = "appeals:create"
    ARCHIVE_SEARCH = "archive:search"
    ARCHIVE_DELETE_REQUEST = "archive:delete_request"
    ARCHIVE_APPROVE = "archive:approve"
    EVIDENCE_EXPORT = "evidence:export"
    INTERVIEW_CONDUCT = "interview:conduct"
    SENSITIVE_UNMASK = "sensitive:unmask"
    JOBS_READ = "jobs:read"


@dataclass(frozen=True)
class PermissionInfo:
    id: Permission
    group: str
    name_zh: str
    name_en: str


PERMISSIONS: tuple[PermissionInfo, ...] = (
    PermissionInfo(Permission.USERS_READ, "admin", "查看用户", "View users"),
    PermissionInfo(Permission.USERS_WRITE, "admin", "管理用户", "Manage users"),
    PermissionInfo(Permission.ROLES_READ, "admin", "查看角色", "View roles"),
    PermissionInfo(Permission.ROLES_WRITE, "admin", "管理角色", "Manage roles"),
    PermissionInfo(Permission.BRANCHES_READ, "admin", "查看网点", "View branches"),
    PermissionInfo(Permission.BRANCHES_WRITE, "admin", "管理网点", "Manage branches"),
    PermissionInfo(Permission.AUDIT_READ, "audit", "查看审计日志", "View audit log"),
    PermissionInfo(Permission.SETTINGS_READ, "admin", "查看系统设置", "View settings"),
    PermissionInfo(Permission.SETTINGS_WRITE, "admin", "修改系统设置", "Change settings"),
    PermissionInfo(Permission.APIKEYS_MANAGE, "admin", "管理接入系统密钥", "Manage API keys"),
    PermissionInfo(Permission.FLOWS_READ, "flows", "查看流程", "View flows"),
    PermissionInfo(Permission.FLOWS_WRITE, "flows", "编辑流程", "Edit flows"),
    PermissionInfo(Permission.FLOWS_PUBLISH, "flows", "发布流程", "Publish flows"),
    PermissionInfo(
        Permission.FLOWS_OVERRIDE_REVIEW, "flows", "豁免敏感词审核", "Override the sensitive-word review"
    ),
    PermissionInfo(Permission.TASKS_READ, "tasks", "查看双录任务", "View tasks"),
    PermissionInfo(Permission.TASKS_WRITE, "tasks", "管理双录任务", "Manage tasks"),
    PermissionInfo(Permission.RECORDINGS_READ, "recordings", "查看录像", "View recordings"),
    PermissionInfo(Permission.RECORDINGS_UPLOAD, "recordings", "上传录像", "Upload recordings"),
    PermissionInfo(Permission.QC_READ, "qc", "查看质检结果", "View QC results"),
    PermissionInfo(Permission.QC_REVIEW, "qc", "人工复核质检", "Review QC results"),
    PermissionInfo(Permission.QC_SAMPLE, "qc", "质检抽样", "QC sampling"),
    PermissionInfo(Permission.QC_FINAL_REVIEW, "qc", "质检终审与申诉裁决", "Final QC review and appeals"),
    PermissionInfo(Permission.APPEALS_CREATE, "qc", "提起质检申诉", "Appeal QC decisions"),
    PermissionInfo(Permission.QC_RULES, "qc", "管理高风险规则", "Manage high-risk rules"),
    PermissionInfo(Permission.ARCHIVE_SEARCH, "archive", "档案检索", "Search the archive"),
    PermissionInfo(Permission.ARCHIVE_DELETE_REQUEST, "archive", "申请删除档案", "Request deletion"),
    PermissionInfo(Permission.ARCHIVE_APPROVE, "archive", "审批删除", "Approve deletion"),
    PermissionInfo(Permission.EVIDENCE_EXPORT, "archive", "导出存证包", "Export evidence"),
    PermissionInfo(Permission.INTERVIEW_CONDUCT, "interview", "进行人工面签", "Conduct interviews"),
    PermissionInfo(Permission.SENSITIVE_UNMASK, "privacy", "查看完整敏感信息", "See unmasked personal data"),
    PermissionInfo(Permission.JOBS_READ, "admin", "查看后台任务", "View background jobs"),
)


@dataclass(frozen=True)
class RoleInfo:
    id: str
    name_zh: str
    name_en: str
    permissions: frozenset[Permission]


P = Permission

BUILTIN_ROLES: dict[str, RoleInfo] = {
    r.id: r
    for r in (
        RoleInfo("admin", "管理员", "Administrator", frozenset(Permission)),
        RoleInfo(
            "interviewer",
            "面签员",
            "Interviewer",
            frozenset(
                {P.TASKS_READ, P.TASKS_WRITE, P.RECORDINGS_READ, P.RECORDINGS_UPLOAD, P.QC_READ}
                | {P.INTERVIEW_CONDUCT, P.FLOWS_READ}
            ),
        ),
        RoleInfo(
            "auditor",
            "审计员",
            "Auditor",
            frozenset(
                {P.AUDIT_READ, P.TASKS_READ, P.RECORDINGS_READ, P.QC_READ, P.QC_SAMPLE, P.ARCHIVE_SEARCH}
                | {P.EVIDENCE_EXPORT, P.USERS_READ, P.BRANCHES_READ}
            ),
        ),
        RoleInfo(
            "qc_reviewer",
            "质检员",
            "QC reviewer",
            frozenset(
                {P.TASKS_READ, P.RECORDINGS_READ, P.QC_READ, P.QC_REVIEW, P.QC_SAMPLE, P.ARCHIVE_SEARCH}
            ),
        ),
        RoleInfo(
            "qc_manager",
            "质检主管",
            "QC manager",
            frozenset(
                {P.TASKS_READ, P.RECORDINGS_READ, P.QC_READ, P.QC_REVIEW, P.QC_SAMPLE, P.QC_FINAL_REVIEW}
                | {P.QC_RULES, P.ARCHIVE_SEARCH, P.AUDIT_READ}
            ),
        ),
        RoleInfo(
            "compliance",
            "合规",
            "Compliance",
            frozenset(
                {P.FLOWS_READ, P.FLOWS_PUBLISH, P.FLOWS_OVERRIDE_REVIEW, P.TASKS_READ, P.RECORDINGS_READ}
                | {P.QC_READ, P.QC_REVIEW, P.QC_FINAL_REVIEW}
                | {P.ARCHIVE_SEARCH, P.ARCHIVE_APPROVE, P.EVIDENCE_EXPORT, P.AUDIT_READ, P.SENSITIVE_UNMASK}
            ),
        ),
        RoleInfo(
            "branch_supervisor",
            "部门主管",
            "Branch supervisor",
            frozenset(
                {P.USERS_READ, P.BRANCHES_READ, P.TASKS_READ, P.RECORDINGS_READ, P.QC_READ, P.ARCHIVE_SEARCH}
                | {P.ARCHIVE_DELETE_REQUEST, P.ARCHIVE_APPROVE, P.APPEALS_CREATE}
            ),
        ),
    )
}


def role_permissions(
    role_id: str, custom: dict[str, frozenset[Permission]] | None = None
) -> frozenset[Permission]:
    """Permissions of a role: built-in matrix first, then custom roles; unknown roles have none."""
    if role_id in BUILTIN_ROLES:
        return BUILTIN_ROLES[role_id].permissions
    if custom and role_id in custom:
        return custom[role_id]
    return frozenset()


def is_valid_role_id(role_id: str) -> bool:
    return (
        2 <= len(role_id) <= 40
        and role_id.replace("_", "").isalnum()
        and role_id.isascii()
        and role_id.islower()
    )
