// The server still sends many texts as "中文 / English" pairs (problem details, QC findings, task
// reasons). Until it sends codes, the UI shows only the half of the current language.

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const LATIN = /[A-Za-z]/;
const SEPARATOR = " / ";

export interface BilingualPair {
  zh: string;
  en: string;
}

/**
 * The two halves of one "中文 / English" text, or null when it is not such a pair. The split is at the
 * first " / " with Chinese on its left and no Chinese (but Latin letters) on its right, so a " / "
 * inside either half ("产品 / 金额", "MP4 / MOV") does not split it in the wrong place.
 */
export function splitBilingual(text: string): BilingualPair | null {
  let at = text.indexOf(SEPARATOR);
  while (at >= 0) {
    const left = text.slice(0, at);
    const right = text.slice(at + SEPARATOR.length);
    if (CJK.test(left) && !CJK.test(right) && LATIN.test(right)) {
      return { zh: left.trim(), en: right.trim() };
    }
    at = text.indexOf(SEPARATOR, at + 1);
  }
  return null;
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
    if (!pair) return part.trim();
    return locale === "en" ? pair.en : pair.zh;
  });
  return picked.join(locale === "en" ? "; " : "；");
}

/** True when the text still shows both languages of one message (what the UI must never do). */
export function isBilingual(text: string): boolean {
  return splitBilingual(text) !== null;
}
