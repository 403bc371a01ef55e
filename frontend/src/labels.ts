// Display names of every enumerated value the console shows, in the UI language (locale keys
// labels.*). People never see a raw code such as `wealth`, `flow.published` or `qc:read`.
// The lists below are the values the server knows (tests/unit/test_console_labels.py checks them
// against the server's enums); labels.test.ts checks each has a name in zh-CN and en.
import { i18n } from "@/locales";

export const ENUMS = {
  businessTypes: [
    "wealth",
    "insurance",
    "fund",
    "deposit",
    "loan",
    "precious_metal",
    "trust",
    "bond",
    "credit_card",
    "pension",
  ],
  customerTypes: ["personal", "institution", "elderly", "minor", "vip", "new", "high_risk", "disabled"],
  taskStatuses: [
    "created",
    "in_progress",
    "qc",
    "review",
    "passed",
    "failed",
    "cancelled",
    "expired",
    "handover",
    "superseded",
  ],
  modes: ["self_service", "human", "counter"],
  verdicts: ["PASS", "REVIEW", "FAIL"],
  nodeTypes: ["identity", "risk_disclosure", "qa", "willingness", "document_display", "signing", "end"],
  checks: [
    "file_integrity",
    "technical_quality",
    "black_screen",
    "frozen_picture",
    "silence",
    "face_presence",
    "people_count",
    "identity_match",
    "identity_consistency",
    "liveness",
    "id_card",
    "transcript",
    "script_coverage",
    "answers",
    "sensitive_words",
    "portrait",
    "llm_review",
    "call_quality",
    "live_call",
  ],
  actors: ["anonymous", "system", "customer", "remote-interview"],
  auditActions: [
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.locked_out",
    "auth.password_changed",
    "auth.permission_denied",
    "auth.api_signature_invalid",
    "user.created",
    "user.updated",
    "user.deleted",
    "user.unlocked",
    "role.created",
    "role.updated",
    "role.deleted",
    "branch.created",
    "branch.updated",
    "branch.deleted",
    "apikey.created",
    "apikey.revoked",
    "settings.updated",
    "recording.uploaded",
    "recording.qc_finished",
    "flow.created",
    "flow.saved",
    "flow.published",
    "flow.review_overridden",
    "questions.changed",
    "questions.imported",
    "routing.changed",
    "sensitive_words.changed",
    "task.created",
    "task.reset",
    "task.cancelled",
    "task.link_issued",
    "webhook.resent",
    "session.chunks_deleted",
    "agent_upload.completed",
    "agent_upload.rejected",
    "rtc.joined",
    "rtc.ended",
    "rtc.queued",
    "rtc.accepted",
    "rtc.queue_abandoned",
    "rtc.queue_timeout",
    "rtc.skills_set",
    "archive.updated",
    "archive.exported",
    "archive.legal_hold_set",
    "archive.legal_hold_released",
    "archive.deletion_requested",
    "archive.deletion_approved",
    "archive.deletion_rejected",
    "archive.deletion_refused",
    "archive.deletion_cancelled",
    "archive.deleted",
    "archive.leftovers_deleted",
    "archive.expiring_notified",
    "retention.policy_changed",
    "approval.chain_changed",
    "evidence.litigation_report",
    "evidence.package_downloaded",
    "evidence.push_requested",
    "evidence.pushed",
    "evidence.push_failed",
    "audit.exported",
    "integrity.audited",
    "integrity.alert",
    "review.rule_created",
    "review.rule_updated",
    "review.sampled",
    "review.assigned",
    "review.claimed",
    "review.finding_decided",
    "review.finding_added",
    "review.finding_removed",
    "review.decided",
    "review.final_decided",
    "review.refused",
    "review.appealed",
    "review.appeal_decided",
    "review.appeal_attachment_read",
  ],
  permissions: [
    "users:read",
    "users:write",
    "roles:read",
    "roles:write",
    "branches:read",
    "branches:write",
    "audit:read",
    "settings:read",
    "settings:write",
    "apikeys:manage",
    "flows:read",
    "flows:write",
    "flows:publish",
    "flows:override_review",
    "tasks:read",
    "tasks:write",
    "recordings:read",
    "recordings:upload",
    "qc:read",
    "qc:review",
    "qc:sample",
    "qc:final_review",
    "qc:rules",
    "appeals:create",
    "archive:search",
    "archive:delete_request",
    "archive:approve",
    "evidence:export",
    "interview:conduct",
    "sensitive:unmask",
    "jobs:read",
  ],
  permissionGroups: ["admin", "audit", "flows", "tasks", "recordings", "qc", "archive", "interview", "privacy"],
  webhookEvents: ["task.status_changed", "task.result", "task.review_decided"],
  targetTypes: [
    "recording",
    "user",
    "task",
    "question_bank",
    "flow",
    "role",
    "branch",
    "api_key",
    "script_template",
    "retention_policy",
    "evidence",
    "archive",
    "agent_upload",
    "webhook_delivery",
    "sensitive_words",
    "routing_rules",
    "review_sample",
    "review_rule",
    "review_override",
    "question_import",
    "live_session",
    "endpoint",
    "demo_content",
    "audit_log",
    "approval_chain",
    "settings",
    "appeal",
    "review_item",
  ],
  outcomes: ["success", "denied", "failure"],
} as const;

export type LabelKind = keyof typeof ENUMS;

/** The group a permission is listed under (as the server's catalogue groups them). */
export const PERMISSION_GROUP: Record<string, (typeof ENUMS.permissionGroups)[number]> = {
  "users:read": "admin",
  "users:write": "admin",
  "roles:read": "admin",
  "roles:write": "admin",
  "branches:read": "admin",
  "branches:write": "admin",
  "audit:read": "audit",
  "settings:read": "admin",
  "settings:write": "admin",
  "apikeys:manage": "admin",
  "flows:read": "flows",
  "flows:write": "flows",
  "flows:publish": "flows",
  "flows:override_review": "flows",
  "tasks:read": "tasks",
  "tasks:write": "tasks",
  "recordings:read": "recordings",
  "recordings:upload": "recordings",
  "qc:read": "qc",
  "qc:review": "qc",
  "qc:sample": "qc",
  "qc:final_review": "qc",
  "qc:rules": "qc",
  "appeals:create": "qc",
  "archive:search": "archive",
  "archive:delete_request": "archive",
  "archive:approve": "archive",
  "evidence:export": "archive",
  "interview:conduct": "interview",
  "sensitive:unmask": "privacy",
  "jobs:read": "admin",
};

/** The locale key of a value's display name ("flow.published" → labels.auditActions.flow_published). */
export function labelKey(kind: LabelKind, value: string): string {
  return `labels.${kind}.${value.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** True when the UI language has a display name for the value. */
export function hasLabel(kind: LabelKind, value: string): boolean {
  return value !== "" && i18n.global.te(labelKey(kind, value));
}

/**
 * The display name of a value in the UI language. A value the console does not know (a business
 * type a bank made up, a custom role) is shown as it is, or as `fallback` when given.
 */
export function label(kind: LabelKind, value: string | null | undefined, fallback?: string): string {
  if (!value) return fallback ?? "—";
  return hasLabel(kind, value) ? i18n.global.t(labelKey(kind, value)) : (fallback ?? value);
}

/** Who did something: a user's name as it is; anonymous, system and API keys by name. */
export function actorLabel(actor: string | null | undefined): string {
  if (!actor) return "—";
  const key = /^apikey:(.+)$/.exec(actor);
  if (key) return i18n.global.t("labels.actors.apikey", { id: key[1] });
  return label("actors", actor);
}

/** A list of values as their display names, joined for the UI language. */
export function labelList(kind: LabelKind, values: readonly string[] | null | undefined): string {
  if (!values || values.length === 0) return "—";
  return values.map((v) => label(kind, v)).join(i18n.global.locale.value === "en" ? ", " : "、");
}

/** A user's permissions grouped for display: [{ group name, permission names }] in catalogue order. */
export function groupedPermissions(permissions: readonly string[]): { group: string; names: string[] }[] {
  const out: { group: string; names: string[] }[] = [];
  for (const group of ENUMS.permissionGroups) {
    const names = ENUMS.permissions
      .filter((p) => PERMISSION_GROUP[p] === group && permissions.includes(p))
      .map((p) => label("permissions", p));
    if (names.length) out.push({ group: label("permissionGroups", group), names });
  }
  const unknown = permissions.filter((p) => !(p in PERMISSION_GROUP));
  if (unknown.length) out.push({ group: "…", names: unknown.map((p) => label("permissions", p)) });
  return out;
}
