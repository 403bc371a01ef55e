// An interviewer's skill groups (坐席技能组) as typed in the user dialog: separated by commas,
// 、 or spaces; the server keeps each group once, sorted, and refuses more than MAX_SKILL_GROUPS or
// a group over 64 characters (services/rtc/queue.py) — checked here first.

export const MAX_SKILL_GROUPS = 20;
export const MAX_GROUP_LENGTH = 64;

export function parseSkillGroups(text: string): string[] {
  const groups = text
    .split(/[,，、;；\s]+/)
    .map((g) => g.trim())
    .filter(Boolean);
  return [...new Set(groups)].sort();
}

export function skillGroupsValid(groups: string[]): boolean {
  return groups.length <= MAX_SKILL_GROUPS && groups.every((g) => g.length <= MAX_GROUP_LENGTH);
}

export const formatSkillGroups = (groups: readonly string[]): string => groups.join("、");
