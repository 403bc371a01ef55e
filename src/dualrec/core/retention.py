"""Retention of archived recordings (保管期限): codes, policies per business type, expiry dates.

Retention codes follow the archival convention the SPEC quotes (§4):

* ``Y`` — permanent (永久): never expires;
* ``D<n>`` — a fixed term of *n* years (定期 n 年), e.g. ``D10``, ``D30``.

``<n>Y`` (e.g. ``10Y``) is accepted as input and normalised to ``D<n>``. The term runs from the
policy's *basis*: the day the recording was made, or the day the contract ends (insurance and wealth
products are kept for a number of years after the contract ends). When the basis date is unknown
(no contract end date yet) there is no expiry date: nothing is ever listed as expiring or deletable
on a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

__all__ = [
    "DEFAULT_POLICIES",
    "DEFAULT_POLICY_KEY",
    "SECRECY_LEVELS",
    "RetentionBasis",
    "RetentionPolicy",
    "add_years",
    "compute_expiry",
    "expiring_within",
    "is_expired",
    "normalize_retention_code",
    "policy_for",
    "retention_years",
]

DEFAULT_POLICY_KEY = "*"  # the policy of business types that have none of their own
MAX_YEARS = 100
SECRECY_LEVELS: tuple[str, ...] = ("公开", "内部", "秘密", "机密")  # public, internal, secret, confidential

_CODE = re.compile(r"^(?:(Y)|D([0-9]{1,3})|([0-9]{1,3})Y)$")


class RetentionBasis(StrEnum):
    RECORDED_AT = "recorded_at"  # the term runs from the day of the recording
    CONTRACT_END = "contract_end"  # ... from the day the contract ends


@dataclass(frozen=True)
class RetentionPolicy:
    business_type: str  # or DEFAULT_POLICY_KEY
    code: str  # normalised: "Y" or "D<n>"
    basis: RetentionBasis
    name: str = ""  # shown in the console, e.g. "保险（合同终止后 10 年）"


def normalize_retention_code(code: str) -> str:
    """``Y`` / ``D<n>`` / ``<n>Y`` (case-insensitive) → ``Y`` or ``D<n>``; ValueError otherwise."""
    m = _CODE.match(code.strip().upper())
    if not m:
        raise ValueError(f"invalid retention code {code!r}: use Y (permanent), D<n> or <n>Y (n years)")
    if m.group(1):
        return "Y"
    years = int(m.group(2) or m.group(3))
    if not 1 <= years <= MAX_YEARS:
        raise ValueError(f"retention years must be 1..{MAX_YEARS}, got {years}")
    return f"D{years}"


def retention_years(code: str) -> int | None:
    """Years of a normalised code; None for permanent."""
    norm = normalize_retention_code(code)
    return None if norm == "Y" else int(norm[1:])


def add_years(day: date, years: int) -> date:
    """The same month and day ``years`` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def compute_expiry(
    code: str, basis: RetentionBasis | str, *, recorded_at: datetime, contract_end: date | None
) -> date | None:
    """The first day on which the item may be deleted; None when permanent or the basis is unknown."""
    years = retention_years(code)
    if years is None:
        return None
    if RetentionBasis(basis) is RetentionBasis.CONTRACT_END:
        if contract_end is None:
            return None
        return add_years(contract_end, years)
    return add_years(recorded_at.date(), years)


def is_expired(expires_on: date | None, today: date) -> bool:
    return expires_on is not None and expires_on <= today


def expiring_within(expires_on: date | None, today: date, days: int) -> bool:
    """Expires within the next ``days`` days (already expired items count: they still wait for deletion)."""
    return expires_on is not None and (expires_on - today).days <= days


def policy_for(policies: dict[str, RetentionPolicy], business_type: str) -> RetentionPolicy:
    """The business type's own policy, else the default one, else permanent (never delete on a guess)."""
    found = policies.get(business_type) or policies.get(DEFAULT_POLICY_KEY)
    if found is not None:
        return found
    return RetentionPolicy(DEFAULT_POLICY_KEY, "Y", RetentionBasis.RECORDED_AT, "永久")


# Seeded at installation (editable in the console afterwards).
DEFAULT_POLICIES: tuple[RetentionPolicy, ...] = (
    RetentionPolicy("insurance", "D10", RetentionBasis.CONTRACT_END, "保险：合同终止后 10 年"),
    RetentionPolicy("securities", "D20", RetentionBasis.RECORDED_AT, "证券适当性：20 年"),
    RetentionPolicy("wealth", "D5", RetentionBasis.CONTRACT_END, "理财：产品/合同终止后 5 年"),
    RetentionPolicy(DEFAULT_POLICY_KEY, "D30", RetentionBasis.RECORDED_AT, "其他业务：30 年"),
)
