// Sidebar navigation: an entry appears only when the user holds its permission.

export interface NavItem {
  key: string; // nav.<key> in the locale files
  to: string;
  permission?: string;
  comingSoon?: boolean;
}

export interface NavSection {
  key: string; // nav.<key>
  items: NavItem[];
}

export const NAV: NavSection[] = [
  {
    key: "businessSection",
    items: [
      { key: "home", to: "/" },
      { key: "tasks", to: "/tasks", permission: "tasks:read" },
      { key: "handoverQueue", to: "/tasks/handover", permission: "tasks:read" },
      { key: "rtcQueue", to: "/rtc/queue", permission: "interview:conduct" },
      { key: "recordings", to: "/recordings", permission: "recordings:read" },
      { key: "archive", to: "/archive", permission: "archive:search" },
      { key: "archiveApprovals", to: "/archive/approvals", permission: "archive:approve" },
      { key: "archiveRetention", to: "/archive/retention", permission: "archive:search" },
    ],
  },
  {
    key: "qcSection",
    items: [
      { key: "reviewQueue", to: "/review", permission: "qc:review" },
      { key: "reviewSampling", to: "/review/sampling", permission: "qc:sample" },
      { key: "reviewAppeals", to: "/review/appeals", permission: "qc:read" },
      { key: "reviewStats", to: "/review/stats", permission: "qc:read" },
      { key: "reviewHighRisk", to: "/review/high-risk", permission: "qc:read" },
    ],
  },
  {
    key: "configSection",
    items: [
      { key: "flows", to: "/flows", permission: "flows:read" },
      { key: "questionBanks", to: "/question-banks", permission: "flows:read" },
      { key: "rules", to: "/rules", permission: "flows:read" },
    ],
  },
  {
    key: "adminSection",
    items: [
      { key: "users", to: "/admin/users", permission: "users:read" },
      { key: "roles", to: "/admin/roles", permission: "roles:read" },
      { key: "branches", to: "/admin/branches", permission: "branches:read" },
      { key: "audit", to: "/admin/audit", permission: "audit:read" },
      { key: "auditExports", to: "/admin/audit-exports", permission: "audit:read" },
      { key: "integrityAudit", to: "/admin/integrity", permission: "audit:read" },
      { key: "apiKeys", to: "/admin/api-keys", permission: "apikeys:manage" },
      { key: "webhooks", to: "/admin/webhooks", permission: "apikeys:manage" },
    ],
  },
];

/** The sections and entries visible to a user with these permissions; empty sections are dropped. */
export function visibleNav(permissions: readonly string[], nav: NavSection[] = NAV): NavSection[] {
  const held = new Set(permissions);
  return nav
    .map((section) => ({
      ...section,
      items: section.items.filter((item) => !item.permission || held.has(item.permission)),
    }))
    .filter((section) => section.items.length > 0);
}
