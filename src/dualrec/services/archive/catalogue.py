"""The archive catalogue (目录数据库): one entry per recording, kept in step with the recording and its
task, searchable by combined filters within the caller's branch subtree, exportable, with legal hold.

Personal data (customer name, ID number, phone) is stored sealed with the app's secret box and found
by exact match through keyed blind-index hashes (``BlindIndex``); it is shown masked unless the
caller holds ``sensitive:unmask``. Retention rules live in ``services.archive.retention``, the deletion
approval chain in ``services.archive.deletion``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dualrec.core.archive import ArchiveEntry, ArchiveQuery, EntryStatus, file_format
from dualrec.core.audit import AuditAction
from dualrec.core.branches import in_scope
from dualrec.core.rbac import Permission
from dualrec.core.recordings import Recording
from dualrec.core.retention import SECRECY_LEVELS, is_expired, normalize_retention_code
from dualrec.core.tasks import Task, mask_id_number, mask_name, mask_phone
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.archive.deletion import DeletionService
from dualrec.services.archive.retention import RetentionService, retention_fields
from dualrec.services.common import audit
from dualrec.services.common.blind_index import BlindIndex
from dualrec.services.common.context import Actor
from dualrec.services.common.scope import scope_branch_ids
from dualrec.services.common.secretbox import SecretBox
from dualrec.storage.ports import BlobStore

__all__ = [
    "DEFAULT_SECRECY",
    "SEARCH_COUNT_CAP",
    "ArchiveFilters",
    "ArchiveService",
    "SearchResult",
]

logger = logging.getLogger(__name__)

SEARCH_COUNT_CAP = 10_000  # totals above this are reported as "10 000+" (counting millions costs time)
DEFAULT_SECRECY = "内部"
MAX_CARRIER_NUMBERS = 20


@dataclass(frozen=True)
class ArchiveFilters:
    """What a user searches by. Name and ID number are plaintext here and hashed before the query."""

    customer_id: str | None = None
    customer_name: str | None = None
    id_number: str | None = None
    business_no: str | None = None
    contract_no: str | None = None
    business_type: str | None = None
    qc_verdict: str | None = None
    status: str | None = None
    task_id: str | None = None
    branch_id: int | None = None  # that branch and everything below it (within the caller's scope)
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    expires_within_days: int | None = None
    legal_hold: bool | None = None


@dataclass(frozen=True)
class SearchResult:
    items: list[ArchiveEntry]  # personal fields opened, or masked when ``masked``
    total: int
    exact: bool  # False: more than ``total`` (= SEARCH_COUNT_CAP) matches
    masked: bool


def _can_unmask(actor: Actor) -> bool:
    return actor.principal is not None and actor.principal.can(Permission.SENSITIVE_UNMASK)


class ArchiveService:
    def __init__(self, uows: UnitOfWorkFactory, blobs: BlobStore, box: SecretBox, index: BlindIndex) -> None:
        self.uows, self.blobs, self.box, self.index = uows, blobs, box, index
        self.retention = RetentionService(uows)
        self.deletions = DeletionService(uows, blobs)

    # ---- personal data -------------------------------------------------------------------------

    def _seal(self, value: str) -> str:
        return self.box.seal(value) if value else ""

    def _open(self, sealed: str) -> str:
        return self.box.open(sealed) if sealed else ""

    def present(self, entry: ArchiveEntry, *, clear: bool) -> ArchiveEntry:
        name, number, phone = (
            self._open(entry.customer_name),
            self._open(entry.id_number),
            self._open(entry.phone),
        )
        if not clear:
            name, number, phone = mask_name(name), mask_id_number(number), mask_phone(phone)
        return replace(entry, customer_name=name, id_number=number, phone=phone)

    # ---- keeping the catalogue in step with recordings -----------------------------------------

    def sync_recording(self, recording_id: str) -> bool:
        """Create or refresh the entry of a recording from the recording, its task (when linked) and
        its QC report. Idempotent; a deleted entry is never touched again. False when there is no
        such recording."""
        with self.uows.read() as uow:
            rec = uow.recordings.get(recording_id)
        if rec is None:
            return False
        av, duration_ms = self._report_metadata(rec)
        with self.uows() as uow:
            existing = uow.archive.get(recording_id, for_update=True)
            if existing is not None and existing.status == EntryStatus.DELETED:
                return True
            task = self._linked_task(uow, rec)
            fields = self._activity_fields(rec, task)
            fields.update(
                branch_id=rec.branch_id,
                filename=rec.filename,
                file_format=file_format(rec.filename, rec.content_type),
                content_type=rec.content_type,
                size=rec.size,
                sha256=rec.sha256,
                created_by=rec.created_by,
                recorded_at=rec.created_at,
                qc_status=rec.status,
                qc_verdict=rec.verdict,
            )
            if av:
                fields.update(av=av, duration_ms=duration_ms)
            policies = uow.archive.policies()
            if existing is None:
                fields.update(
                    retention_fields(
                        policies,
                        business_type=fields["business_type"],
                        recorded_at=rec.created_at,
                        contract_end=None,
                    )
                )
                fields.setdefault("av", {})
                added = uow.archive.add(
                    recording_id=rec.id,
                    status=EntryStatus.ACTIVE.value,
                    secrecy_level=DEFAULT_SECRECY,
                    carrier_numbers=[],
                    legal_hold=False,
                    legal_hold_reason="",
                    legal_hold_by="",
                    **fields,
                )
                if not added:  # the archive.sync job and the QC follow-up raced: refresh what it wrote
                    uow.archive.update(rec.id, **{k: v for k, v in fields.items() if k != "av" or v})
            else:
                if not existing.retention_manual:
                    fields.update(
                        retention_fields(
                            policies,
                            business_type=fields["business_type"],
                            recorded_at=rec.created_at,
                            contract_end=existing.contract_end,
                        )
                    )
                uow.archive.update(rec.id, **fields)
            uow.commit()
        return True

    def _linked_task(self, uow: UnitOfWork, rec: Recording) -> Task | None:
        task_id = str((rec.inputs.get("task") or {}).get("task_id") or "")
        link = uow.archive.task_link(rec.id)
        if link is not None:
            task_id = link[0]
        return uow.tasks.get(task_id) if task_id else None

    def _activity_fields(self, rec: Recording, task: Task | None) -> dict[str, Any]:
        if task is not None:
            attempt = next((a.number for a in task.attempts if a.recording_id == rec.id), task.attempt_no)
            number = self._open(task.id_number)
            name = self._task_customer_name(task)
            return {
                "task_id": task.id,
                "attempt_no": attempt,
                "business_type": task.business_type,
                "business_no": task.business_no,
                "contract_no": task.contract_no,
                "product": task.product,
                "customer_id": task.customer_id,
                "customer_name_sealed": self._seal(name),
                "customer_name_hash": self.index.name(name),
                "id_number_sealed": task.id_number,  # sealed by the tasks service with the same box
                "id_number_hash": self.index.id_number(number) if number else "",
                "phone_sealed": task.phone,
            }
        given = rec.task_inputs
        name = self._input_value(given, "customer_name")
        number = self._input_value(given, "id_number")
        return {
            "task_id": None,
            "attempt_no": None,
            "business_type": rec.business_type[:64],
            "business_no": rec.running_no,
            "contract_no": "",
            "product": "",
            "customer_id": "",
            "customer_name_sealed": self._seal(name),
            "customer_name_hash": self.index.name(name),
            "id_number_sealed": self._seal(number),
            "id_number_hash": self.index.id_number(number) if number else "",
            "phone_sealed": "",
        }

    def _task_customer_name(self, task: Task) -> str:
        return (
            task.customer_name if not task.customer_name.startswith("v1:") else self._open(task.customer_name)
        )

    def _input_value(self, given: dict[str, Any], name: str) -> str:
        """A personal field of an upload's task inputs: sealed (``<name>_sealed``) or legacy plaintext."""
        sealed = given.get(f"{name}_sealed")
        if isinstance(sealed, str) and sealed:
            return self._open(sealed)
        return str(given.get(name) or "")

    def _report_metadata(self, rec: Recording) -> tuple[dict[str, Any], int | None]:
        """AV metadata from the native QC report (video_info, duration); empty before QC is done."""
        key = (rec.artifacts or {}).get("report")
        if rec.status != "done" or not key:
            return {}, None
        try:
            with self.blobs.open(key) as fh:
                report = json.loads(fh.read())
        except Exception:
            logger.exception("archive: cannot read the QC report of recording %s", rec.id)
            return {}, None
        info = dict(report.get("video_info") or {})
        info.pop("name", None)  # the scratch file name, not the original
        width, height = int(info.get("width") or 0), int(info.get("height") or 0)
        if width and height:
            info["resolution"] = f"{width}x{height}"
            info["aspect_ratio"] = _aspect(width, height)
        duration = report.get("duration")
        return info, round(float(duration) * 1000) if isinstance(duration, int | float) else None

    # ---- reading -------------------------------------------------------------------------------

    def search(self, *, actor: Actor, filters: ArchiveFilters, page: int, page_size: int) -> SearchResult:
        assert actor.principal is not None
        today = datetime.now(UTC).date()
        query = ArchiveQuery(
            customer_id=filters.customer_id or None,
            customer_name_hash=self.index.name(filters.customer_name) if filters.customer_name else None,
            id_number_hash=self.index.id_number(filters.id_number) if filters.id_number else None,
            business_no=filters.business_no or None,
            contract_no=filters.contract_no or None,
            business_type=filters.business_type or None,
            qc_verdict=filters.qc_verdict or None,
            status=filters.status or None,
            task_id=filters.task_id or None,
            recorded_from=filters.recorded_from,
            recorded_to=filters.recorded_to,
            expires_before=(
                today + timedelta(days=filters.expires_within_days + 1)
                if filters.expires_within_days is not None
                else None
            ),
            legal_hold=filters.legal_hold,
        )
        with self.uows() as uow:
            branch_ids = scope_branch_ids(uow, actor, filters.branch_id)
            items, total, exact = uow.archive.search(
                query,
                branch_ids=branch_ids,
                offset=(page - 1) * page_size,
                limit=page_size,
                count_cap=SEARCH_COUNT_CAP,
            )
        clear = _can_unmask(actor)
        return SearchResult([self.present(e, clear=clear) for e in items], total, exact, not clear)

    def _visible(
        self, uow: UnitOfWork, actor: Actor, recording_id: str, *, for_update: bool = False
    ) -> ArchiveEntry:
        assert actor.principal is not None
        entry = uow.archive.get(recording_id, for_update=for_update)
        if entry is None or not in_scope(actor.principal.branch_path, entry.branch_path):
            raise NotFoundError(msg("archive.archive_entry_found"), details={"recording_id": recording_id})
        return entry

    def get(self, *, actor: Actor, recording_id: str) -> tuple[ArchiveEntry, bool]:
        """The entry (personal data opened or masked) and whether it is masked."""
        with self.uows() as uow:
            entry = self._visible(uow, actor, recording_id)
        clear = _can_unmask(actor)
        return self.present(entry, clear=clear), not clear

    def expiring(self, *, actor: Actor, days: int) -> list[ArchiveEntry]:
        """Active entries in the caller's subtree whose retention ends within ``days`` days (or has
        ended), soonest first. Personal fields stay sealed: callers show only non-personal fields."""
        assert actor.principal is not None
        scope = actor.principal.branch_path
        return [e for e in self.retention.expiring(days=days) if in_scope(scope, e.branch_path)]

    def record_export(self, *, actor: Actor, what: str, count: int, fmt: str, masked: bool) -> None:
        audit.record_now(
            self.uows,
            actor=actor,
            action=AuditAction.ARCHIVE_EXPORTED,
            target_type="archive",
            target_id=what[:64],
            details={"count": count, "format": fmt, "masked": masked},
        )

    # ---- changes -------------------------------------------------------------------------------

    def update(self, *, actor: Actor, recording_id: str, changes: dict[str, Any]) -> ArchiveEntry:
        """Catalogue fields an archivist maintains: secrecy level, original carrier numbers, the
        contract end date (basis of some retention policies) and a manual retention code
        (``retention_code: null`` returns the entry to its business type's policy)."""
        allowed = {"secrecy_level", "carrier_numbers", "contract_end", "retention_code"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInputError(msg("archive.fields_cannot_changed", sorted_unknown=sorted(unknown)))
        fields: dict[str, Any] = {}
        if "secrecy_level" in changes:
            if changes["secrecy_level"] not in SECRECY_LEVELS:
                raise InvalidInputError(
                    msg("archive.unknown_secrecy_level", value="/".join(SECRECY_LEVELS)),
                    details={"fields": {"secrecy_level": "unknown"}},
                )
            fields["secrecy_level"] = changes["secrecy_level"]
        if "carrier_numbers" in changes:
            numbers = [str(n).strip() for n in changes["carrier_numbers"] or [] if str(n).strip()]
            if len(numbers) > MAX_CARRIER_NUMBERS or any(len(n) > 64 for n in numbers):
                raise InvalidInputError(msg("archive.most_20_numbers_64_characters"))
            fields["carrier_numbers"] = numbers
        with self.uows() as uow:
            entry = self._visible(uow, actor, recording_id, for_update=True)
            if entry.status == EntryStatus.DELETED:
                raise ConflictError(msg("archive.entry_deleted"), details={"status": entry.status})
            contract_end = changes.get("contract_end", entry.contract_end)
            manual = entry.retention_manual
            code = entry.retention_code
            if "retention_code" in changes:
                manual = changes["retention_code"] is not None
                if manual:
                    try:
                        code = normalize_retention_code(str(changes["retention_code"]))
                    except ValueError as exc:
                        raise InvalidInputError(
                            msg("archive.message", exc=exc), details={"fields": {"retention_code": "invalid"}}
                        ) from exc
            fields.update(
                retention_fields(
                    uow.archive.policies(),
                    business_type=entry.business_type,
                    recorded_at=entry.recorded_at,
                    contract_end=contract_end,
                    manual_code=code if manual else None,
                    manual_basis=entry.retention_basis if manual else None,
                )
            )
            fields["contract_end"] = contract_end
            uow.archive.update(recording_id, **fields)
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.ARCHIVE_UPDATED,
                target_type="recording",
                target_id=recording_id,
                details={k: (v.isoformat() if isinstance(v, date) else v) for k, v in fields.items()},
            )
            uow.commit()
            fresh = uow.archive.get(recording_id)
        assert fresh is not None
        return self.present(fresh, clear=_can_unmask(actor))

    def set_legal_hold(self, *, actor: Actor, recording_id: str, hold: bool, reason: str) -> ArchiveEntry:
        """Legal hold (诉讼保全) blocks every deletion request and approval until it is released."""
        reason = reason.strip()
        if not reason:
            raise InvalidInputError(
                msg("archive.reason_required"), details={"fields": {"reason": "required"}}
            )
        with self.uows() as uow:
            entry = self._visible(uow, actor, recording_id, for_update=True)
            if entry.status == EntryStatus.DELETED:
                raise ConflictError(msg("archive.entry_deleted"), details={"status": entry.status})
            if entry.legal_hold == hold:
                raise ConflictError(
                    "已处于该状态 / the legal hold is already " + ("set" if hold else "released"),
                    details={"legal_hold": hold},
                )
            uow.archive.update(
                recording_id,
                legal_hold=hold,
                legal_hold_reason=reason,
                legal_hold_by=actor.name,
                legal_hold_at=datetime.now(UTC),
            )
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.ARCHIVE_LEGAL_HOLD_SET
                if hold
                else AuditAction.ARCHIVE_LEGAL_HOLD_RELEASED,
                target_type="recording",
                target_id=recording_id,
                details={"reason": reason},
            )
            uow.commit()
            fresh = uow.archive.get(recording_id)
        assert fresh is not None
        return self.present(fresh, clear=_can_unmask(actor))


def _aspect(width: int, height: int) -> str:
    from math import gcd

    g = gcd(width, height) or 1
    return f"{width // g}:{height // g}"


def expired(entry: ArchiveEntry, today: date) -> bool:
    return is_expired(entry.expires_on, today)
