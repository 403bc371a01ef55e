// The server still sends many texts as "中文 / English" pairs (problem details, QC findings, task
// reasons). Until it sends codes, the UI shows only the half of the current language.

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const LATIN = /[A-Za-z]{2,}/; // an English half has at least one word
// " / ", or "/ " right after full-width punctuation (「…」/ …, （…）/ …), as the server writes them
const SEPARATOR = /(?: \/ |(?<=[\u3000-\u303f\uff00-\uffef])\/ )/g;

export interface BilingualPair {
  zh: string;
  en: string;
}

/**
 * The two halves of one "中文 / English" text, or null when it is not such a pair. The split is at the
 * first separator with Chinese on its left and no Chinese (but Latin letters) on its right, so a " / "
 * inside either half ("产品 / 金额", "MP4 / MOV") does not split it in the wrong place; null as well
 * when the left holds another pair (nested pairs, reduced by inLanguage phrase by phrase).
 */
export function splitBilingual(text: string): BilingualPair | null {
  for (const match of text.matchAll(SEPARATOR)) {
    const at = match.index ?? 0;
    const left = text.slice(0, at);
    const right = text.slice(at + match[0].length);
    // the English half has no Chinese, or starts with a Latin letter (it may quote a Chinese name)
    const quotes = /^[A-Za-z]/.test(right) && !new RegExp(SEPARATOR.source).test(right);
    if (CJK.test(left) && (!CJK.test(right) || quotes) && LATIN.test(right)) {
      // an English phrase already on the left: the pairs are nested (see nestedInLanguage)
      if (new RegExp(`${SEPARATOR.source}[A-Za-z]`).test(left)) return null;
      return { zh: left.trim(), en: right.trim() };
    }
  }
  return null;
}

const CJK_CLASS = "\\u3400-\\u9fff\\uf900-\\ufaff";
const STOPS = "()（）:：;；";
// a separator + an English phrase (ASCII brackets without Chinese in it included), up to the next
// delimiter: what the zh-CN reading drops from a text with pairs nested inside
const ENGLISH_HALF = new RegExp(
  `(?: |(?<=[\\u3000-\\u303f\\uff00-\\uffef]))/ (?:[^${CJK_CLASS}${STOPS}]|\\([^()${CJK_CLASS}]*\\))*(?=[${STOPS}]|$)`,
  "g",
);
// a Chinese phrase (from the start or an ASCII delimiter; full-width punctuation belongs to it) + its
// separator: what the English reading drops
const ASCII_STOPS = "():;";
const CHINESE_HALF = new RegExp(`(^|[${ASCII_STOPS}]\\s*)[^${ASCII_STOPS}/]*[${CJK_CLASS}][^${ASCII_STOPS}/]*?/ `, "g");

/**
 * A text with pairs nested inside ("必需的检查未执行 / required check not run (流程录像 / a recording
 * made to a flow): 原因 / reason"): each pair is reduced to one half, phrase by phrase, up to the
 * delimiters around it. Parts that exist in one language only stay as they are.
 */
function nestedInLanguage(text: string, locale: string): string {
  if (locale === "en") return text.replace(CHINESE_HALF, "$1");
  return text.replace(ENGLISH_HALF, "");
}

/**
 * The text in one language: the matching half of each "中文 / English" message in it (the server
 * joins several messages with "; "), the text unchanged where it has no pair.
 */
export function inLanguage(text: string | null | undefined, locale: string): string {
  if (!text) return "";
  // a new message starts after "; " with a Chinese character (an English half never does)
  const parts = text.split(/;\s*(?=[\u3400-\u9fff])/);
  const picked = parts.map((part) => {
    const pair = splitBilingual(part);
    if (pair) return locale === "en" ? pair.en : pair.zh;
    return CJK.test(part) && new RegExp(SEPARATOR.source).test(part) ? nestedInLanguage(part, locale).trim() : part.trim();
  });
  return picked.join(locale === "en" ? "; " : "；");
}

/** True when the text still shows both languages of one message (what the UI must never do). */
export function isBilingual(text: string): boolean {
  return splitBilingual(text) !== null;
}
