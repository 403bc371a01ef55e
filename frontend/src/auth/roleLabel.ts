import { useI18n } from "vue-i18n";

/** Display name of a role id: the locale's name for built-ins, else the given fallback (or the id). */
export function useRoleLabel(): (role: string, fallback?: string) => string {
  const { t, te } = useI18n();
  return (role, fallback) => {
    const key = `roles.builtinNames.${role}`;
    return te(key) ? t(key) : (fallback ?? role);
  };
}
