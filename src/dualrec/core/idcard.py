"""Chinese resident ID card (second generation): GB 11643 check digit and OCR line parsing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "IdCardFields",
    "gb11643_check_digit",
    "is_valid_id_number",
    "normalize_id_number",
    "parse_id_card",
]

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"[1-9]\d{16}[\dXx]")


def gb11643_check_digit(first17: str) -> str:
    """The 18th character of an ID number from its first 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(text: str) -> str:
    """Upper-case, remove spaces, map OCR look-alikes in the digit part (O→0, I/l→1)."""
    s = re.sub(r"\s+", "", text).upper()
    return s.translate(str.maketrans("OIL×", "011X"))


def is_valid_id_number(number: str) -> bool:
    n = normalize_id_number(number)
    if not re.fullmatch(r"[1-9]\d{16}[\dX]", n):
        return False
    return gb11643_check_digit(n[:17]) == n[17]


@dataclass(frozen=True)
class IdCardFields:
    name: str | None = None
    sex: str | None = None
    ethnicity: str | None = None
    birth: str | None = None  # YYYY-MM-DD
    address: str | None = None
    id_number: str | None = None
    authority: str | None = None  # 签发机关 (back side)
    valid_period: str | None = None  # 有效期限 (back side)

    @property
    def id_number_valid(self) -> bool:
        return self.id_number is not None and is_valid_id_number(self.id_number)

    @property
    def side(self) -> str | None:
        if self.name or self.id_number:
            return "front"
        if self.authority or self.valid_period:
            return "back"
        return None


def _after(label: str, line: str) -> str:
    return line.split(label, 1)[1].strip(" :：") if label in line else ""


def parse_id_card(lines: Iterable[str]) -> IdCardFields:
    """Parse OCR text lines (reading order) of the front and/or back of an ID card."""
    clean = [re.sub(r"\s+", "", ln) for ln in lines if ln.strip()]
    name = sex = ethnicity = birth = number = authority = period = None
    address_parts: list[str] = []
    in_address = False
    for line in clean:
        m = _ID_RE.search(normalize_id_number(line))
        if m and ("号码" in line or len(line) - len(m.group()) <= 8):
            number = m.group()
            in_address = False
            continue
        if line.startswith("姓名"):
            name = _after("姓名", line) or None
        elif line.startswith("性别") or "民族" in line:
            sm = re.search(r"性别([男女])", line)
            sex = sm.group(1) if sm else sex
            em = re.search(r"民族(\S+)", line)
            ethnicity = em.group(1) if em else ethnicity
        elif line.startswith("出生"):
            bm = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", line)
            if bm:
                birth = f"{bm.group(1)}-{int(bm.group(2)):02d}-{int(bm.group(3)):02d}"
        elif line.startswith("住址"):
            in_address = True
            rest = _after("住址", line)
            if rest:
                address_parts.append(rest)
        elif "签发机关" in line:
            authority = _after("签发机关", line) or None
        elif "有效期限" in line:
            period = _after("有效期限", line) or None
        elif in_address and "公民身份" not in line:
            address_parts.append(line)
        elif "公民身份" in line:
            in_address = False
    if birth is None and number is not None:
        b = number[6:14]
        birth = f"{b[:4]}-{b[4:6]}-{b[6:]}"
    return IdCardFields(
        name=name,
        sex=sex,
        ethnicity=ethnicity,
        birth=birth,
        address="".join(address_parts) or None,
        id_number=number,
        authority=authority,
        valid_period=period,
    )
