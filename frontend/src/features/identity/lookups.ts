// Reference lists the admin pages share. A caller without the read permission gets an empty list.
import { api, type Branch, type Permission, type Role } from "@/api/client";
import { call } from "@/api/call";
import { hasPermission } from "@/auth/session";

export async function fetchBranches(): Promise<Branch[]> {
  if (!hasPermission("branches:read")) return [];
  return call(api.GET("/api/v1/branches"));
}

export async function fetchRoles(): Promise<Role[]> {
  if (!hasPermission("roles:read")) return [];
  return call(api.GET("/api/v1/roles"));
}

export async function fetchPermissions(): Promise<Permission[]> {
  return call(api.GET("/api/v1/permissions"));
}
