import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { hasPermission, loadSession, onSessionExpired } from "@/auth/session";
import { i18n } from "@/locales";

declare module "vue-router" {
  interface RouteMeta {
    public?: boolean;
    permission?: string;
    titleKey?: string;
  }
}

const routes: RouteRecordRaw[] = [
  {
    path: "/login",
    name: "login",
    component: () => import("@/features/auth/LoginPage.vue"),
    meta: { public: true, titleKey: "login.title" },
  },
  {
    // the customer's link (signed token; no console login): the self-service recording, or the
    // video call with an agent for a task routed to a human interviewer (features/rtc/H5Entry.vue)
    path: "/h5/:token",
    name: "h5",
    component: () => import("@/features/rtc/H5Entry.vue"),
    props: true,
    meta: { public: true, titleKey: "h5.title" },
  },
  {
    path: "/",
    component: () => import("@/layouts/AppShell.vue"),
    children: [
      {
        path: "",
        name: "home",
        component: () => import("@/features/home/HomePage.vue"),
        meta: { titleKey: "nav.home" },
      },
      {
        path: "recordings",
        name: "recordings",
        component: () => import("@/features/recordings/RecordingsPage.vue"),
        meta: { permission: "recordings:read", titleKey: "nav.recordings" },
      },
      {
        path: "recordings/:id",
        name: "recording",
        component: () => import("@/features/recordings/RecordingDetailPage.vue"),
        props: true,
        meta: { permission: "recordings:read", titleKey: "report.title" },
      },
      {
        path: "review",
        name: "review-queue",
        component: () => import("@/features/review/ReviewQueuePage.vue"),
        meta: { permission: "qc:read", titleKey: "nav.reviewQueue" },
      },
      {
        path: "review/items/:id",
        name: "review-item",
        component: () => import("@/features/review/ReviewWorkbenchPage.vue"),
        props: true,
        meta: { permission: "qc:read", titleKey: "review.workbench.title" },
      },
      {
        path: "review/sampling",
        name: "review-sampling",
        component: () => import("@/features/review/SamplingPage.vue"),
        meta: { permission: "qc:sample", titleKey: "nav.reviewSampling" },
      },
      {
        path: "review/appeals",
        name: "review-appeals",
        component: () => import("@/features/review/AppealsPage.vue"),
        meta: { permission: "qc:read", titleKey: "nav.reviewAppeals" },
      },
      {
        path: "review/high-risk",
        name: "review-high-risk",
        component: () => import("@/features/review/HighRiskRulesPage.vue"),
        meta: { permission: "qc:read", titleKey: "nav.reviewHighRisk" },
      },
      {
        path: "review/stats",
        name: "review-stats",
        component: () => import("@/features/review/StatsPage.vue"),
        meta: { permission: "qc:read", titleKey: "nav.reviewStats" },
      },
      {
        path: "flows",
        name: "flows",
        component: () => import("@/features/flows/FlowsPage.vue"),
        meta: { permission: "flows:read", titleKey: "nav.flows" },
      },
      {
        path: "flows/:code",
        name: "flow-editor",
        component: () => import("@/features/flows/FlowEditorPage.vue"),
        props: true,
        meta: { permission: "flows:read", titleKey: "nav.flows" },
      },
      {
        path: "rules",
        name: "rules",
        component: () => import("@/features/flows/RoutingRulesPage.vue"),
        meta: { permission: "flows:read", titleKey: "nav.rules" },
      },
      {
        path: "question-banks",
        name: "question-banks",
        component: () => import("@/features/question_banks/QuestionBanksPage.vue"),
        meta: { permission: "flows:read", titleKey: "nav.questionBanks" },
      },
      {
        path: "archive",
        name: "archive",
        component: () => import("@/features/archive/ArchiveSearchPage.vue"),
        meta: { permission: "archive:search", titleKey: "nav.archive" },
      },
      {
        path: "archive/approvals",
        name: "archive-approvals",
        component: () => import("@/features/archive/ApprovalsPage.vue"),
        meta: { permission: "archive:search", titleKey: "nav.archiveApprovals" },
      },
      {
        path: "archive/retention",
        name: "archive-retention",
        component: () => import("@/features/archive/RetentionPage.vue"),
        meta: { permission: "archive:search", titleKey: "nav.archiveRetention" },
      },
      {
        path: "archive/:id",
        name: "archive-entry",
        component: () => import("@/features/archive/ArchiveEntryPage.vue"),
        props: true,
        meta: { permission: "archive:search", titleKey: "nav.archive" },
      },
      {
        path: "tasks",
        name: "tasks",
        component: () => import("@/features/tasks/TasksPage.vue"),
        meta: { permission: "tasks:read", titleKey: "nav.tasks" },
      },
      {
        path: "tasks/handover",
        name: "handover-queue",
        component: () => import("@/features/tasks/HandoverQueuePage.vue"),
        meta: { permission: "tasks:read", titleKey: "nav.handoverQueue" },
      },
      {
        path: "rtc/queue",
        name: "rtc-queue",
        component: () => import("@/features/rtc/AgentQueuePage.vue"),
        meta: { permission: "interview:conduct", titleKey: "nav.rtcQueue" },
      },
      {
        path: "rtc/tasks/:id",
        name: "rtc-desk",
        component: () => import("@/features/rtc/AgentDeskPage.vue"),
        props: true,
        meta: { permission: "interview:conduct", titleKey: "rtc.deskTitle" },
      },
      {
        path: "tasks/:id",
        name: "task",
        component: () => import("@/features/tasks/TaskDetailPage.vue"),
        props: true,
        meta: { permission: "tasks:read", titleKey: "nav.tasks" },
      },
      {
        path: "admin/webhooks",
        name: "webhooks",
        component: () => import("@/features/tasks/WebhooksPage.vue"),
        meta: { permission: "apikeys:manage", titleKey: "nav.webhooks" },
      },
      {
        path: "admin/users",
        name: "users",
        component: () => import("@/features/identity/UsersPage.vue"),
        meta: { permission: "users:read", titleKey: "nav.users" },
      },
      {
        path: "admin/roles",
        name: "roles",
        component: () => import("@/features/identity/RolesPage.vue"),
        meta: { permission: "roles:read", titleKey: "nav.roles" },
      },
      {
        path: "admin/branches",
        name: "branches",
        component: () => import("@/features/identity/BranchesPage.vue"),
        meta: { permission: "branches:read", titleKey: "nav.branches" },
      },
      {
        path: "admin/audit",
        name: "audit",
        component: () => import("@/features/identity/AuditPage.vue"),
        meta: { permission: "audit:read", titleKey: "nav.audit" },
      },
      {
        path: "admin/audit-exports",
        name: "audit-exports",
        component: () => import("@/features/litigation/AuditExportsPage.vue"),
        meta: { permission: "audit:read", titleKey: "nav.auditExports" },
      },
      {
        path: "admin/integrity",
        name: "integrity-audit",
        component: () => import("@/features/evidence/IntegrityAuditPage.vue"),
        meta: { permission: "audit:read", titleKey: "nav.integrityAudit" },
      },
      {
        path: "admin/api-keys",
        name: "api-keys",
        component: () => import("@/features/identity/ApiKeysPage.vue"),
        meta: { permission: "apikeys:manage", titleKey: "nav.apiKeys" },
      },
      {
        path: "403",
        name: "forbidden",
        component: () => import("@/features/errors/ForbiddenPage.vue"),
        meta: { titleKey: "forbidden.title" },
      },
      {
        path: ":pathMatch(.*)*",
        name: "not-found",
        component: () => import("@/features/errors/NotFoundPage.vue"),
        meta: { titleKey: "notFound.title" },
      },
    ],
  },
];

export const router = createRouter({ history: createWebHistory("/"), routes });

router.beforeEach(async (to) => {
  const user = await loadSession().catch(() => null);
  if (to.meta.public) {
    return to.name === "login" && user ? { name: "home" } : true;
  }
  if (!user) {
    return { name: "login", query: to.fullPath === "/" ? {} : { redirect: to.fullPath } };
  }
  if (!hasPermission(to.meta.permission)) {
    return { name: "forbidden", query: { from: to.fullPath } };
  }
  return true;
});

router.afterEach((to) => {
  const t = i18n.global.t;
  const page = to.meta.titleKey ? t(to.meta.titleKey) : "";
  document.title = page ? `${page} · ${t("app.shortName")}` : t("app.name");
});

onSessionExpired(() => {
  void router.replace({
    name: "login",
    query: { reason: "expired", redirect: router.currentRoute.value.fullPath },
  });
});
