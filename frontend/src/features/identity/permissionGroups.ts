import type { Permission } from "@/api/client";

export interface PermissionGroup {
  group: string;
  permissions: Permission[];
}

/** Permissions grouped by their `group`, groups in first-seen order (the backend's order). */
export function groupPermissions(permissions: readonly Permission[]): PermissionGroup[] {
  const groups = new Map<string, Permission[]>();
  for (const permission of permissions) {
    const list = groups.get(permission.group) ?? [];
    list.push(permission);
    groups.set(permission.group, list);
  }
  return [...groups].map(([group, list]) => ({ group, permissions: list }));
}
