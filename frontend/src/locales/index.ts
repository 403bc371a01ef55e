import { createI18n } from "vue-i18n";
import en from "./en";
import zhCN from "./zh-CN";

export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];

const STORAGE_KEY = "dualrec.locale";

export const messages = { "zh-CN": zhCN, en };

function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  return isLocale(saved) ? saved : "zh-CN";
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: "zh-CN",
  messages,
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  globalThis.localStorage?.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

export function currentLocale(): Locale {
  const value = i18n.global.locale.value;
  return isLocale(value) ? value : "zh-CN";
}
