"""The archive catalogue: combined search (branch-scoped, masked), one entry, export (JSON/CSV),
catalogue fields, legal hold, expiring entries and retention notices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.archive import (
    ArchiveEntryOut,
    ArchivePage,
    CatalogueUpdate,
    ExpiringOut,
    LegalHoldIn,
    NoticeOut,
)
from dualrec.api.schemas.common import MAX_ID, SEARCH_PATTERN
from dualrec.core.archive import ArchiveEntry
from dualrec.core.rbac import Permission as P
from dualrec.services.archive.catalogue import ArchiveFilters
from dualrec.services.archive.catalogue_record import catalogue_csv, catalogue_record
from dualrec.services.common.context import Actor

router = APIRouter(prefix="/archive", tags=["archive"])

RecordingId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
Str64 = Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)]
ExportFormat = Annotated[Literal["json", "csv"], Query(alias="format")]


def entry_out(entry: ArchiveEntry, masked: bool) -> ArchiveEntryOut:
    return ArchiveEntryOut.model_validate(
        catalogue_record(entry, today=datetime.now(UTC).date(), masked=masked)
    )


def _filters(
    customer_id: Str64 = None,
    customer_name: Annotated[str | None, Query(max_length=100, pattern=SEARCH_PATTERN)] = None,
    id_number: Annotated[str | None, Query(max_length=18, pattern=SEARCH_PATTERN)] = None,
    business_no: Str64 = None,
    contract_no: Str64 = None,
    business_type: Str64 = None,
    qc_verdict: Annotated[str | None, Query(pattern=r"^(PASS|REVIEW|FAIL)$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(active|deleted)$")] = None,
    task_id: Annotated[str | None, Query(max_length=36, pattern=SEARCH_PATTERN)] = None,
    branch_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="该网点及其下级 / subtree")] = None,
    recorded_from: datetime | None = None,
    recorded_to: Annotated[datetime | None, Query(description="不含 / exclusive")] = None,
    expires_within_days: Annotated[int | None, Query(ge=0, le=36500)] = None,
    legal_hold: bool | None = None,
) -> ArchiveFilters:
    return ArchiveFilters(
        customer_id=customer_id,
        customer_name=customer_name,
        id_number=id_number,
        business_no=business_no,
        contract_no=contract_no,
        business_type=business_type,
        qc_verdict=qc_verdict,
        status=status,
        task_id=task_id,
        branch_id=branch_id,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
        expires_within_days=expires_within_days,
        legal_hold=legal_hold,
    )


Filters = Annotated[ArchiveFilters, Depends(_filters)]
Page_ = Annotated[int, Query(ge=1, le=100_000)]


@router.get("/entries", response_model=ArchivePage, summary="档案检索 / search the archive catalogue")
def search_entries(
    actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)],
    container: ContainerDep,
    filters: Filters,
    page: Page_ = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ArchivePage:
    found = container.archive.search(actor=actor, filters=filters, page=page, page_size=page_size)
    return ArchivePage(
        items=[entry_out(e, found.masked) for e in found.items],
        total=found.total,
        total_exact=found.exact,
        page=page,
        page_size=page_size,
        masked=found.masked,
    )


def _download(records: list[dict[str, Any]], fmt: str, name: str, *, single: bool = False) -> Response:
    if fmt == "csv":
        body = catalogue_csv(records).encode()
        media = "text/csv; charset=utf-8"
    else:
        data = records[0] if single else records
        body = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
        media = "application/json"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    )


@router.get(
    "/entries/export",
    summary="导出检索结果的一页 (JSON/CSV) / export one page of search results",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def export_entries(
    actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)],
    container: ContainerDep,
    filters: Filters,
    fmt: ExportFormat = "csv",
    page: Page_ = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    found = container.archive.search(actor=actor, filters=filters, page=page, page_size=page_size)
    today = datetime.now(UTC).date()
    records = [catalogue_record(e, today=today, masked=found.masked) for e in found.items]
    container.archive.record_export(
        actor=actor, what=f"search page {page}", count=len(records), fmt=fmt, masked=found.masked
    )
    return _download(records, fmt, f"archive-page-{page}")


@router.get("/entries/{recording_id}", response_model=ArchiveEntryOut, summary="档案著录 / catalogue entry")
def get_entry(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)], container: ContainerDep
) -> ArchiveEntryOut:
    entry, masked = container.archive.get(actor=actor, recording_id=recording_id)
    return entry_out(entry, masked)


@router.get(
    "/entries/{recording_id}/export",
    summary="导出档案著录 (JSON/CSV) / export a catalogue entry",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def export_entry(
    recording_id: RecordingId,
    actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)],
    container: ContainerDep,
    fmt: ExportFormat = "json",
) -> Response:
    entry, masked = container.archive.get(actor=actor, recording_id=recording_id)
    record = catalogue_record(entry, today=datetime.now(UTC).date(), masked=masked)
    container.archive.record_export(actor=actor, what=recording_id, count=1, fmt=fmt, masked=masked)
    return _download([record], fmt, f"archive-{recording_id}", single=True)


@router.patch(
    "/entries/{recording_id}", response_model=ArchiveEntryOut, summary="修改著录项 / update catalogue fields"
)
def update_entry(
    recording_id: RecordingId,
    body: CatalogueUpdate,
    actor: Annotated[Actor, perm(P.ARCHIVE_APPROVE)],
    container: ContainerDep,
) -> ArchiveEntryOut:
    changes = body.model_dump(exclude_unset=True)
    entry = container.archive.update(actor=actor, recording_id=recording_id, changes=changes)
    return entry_out(entry, not actor.principal or not actor.principal.can(P.SENSITIVE_UNMASK))


@router.put(
    "/entries/{recording_id}/legal-hold",
    response_model=ArchiveEntryOut,
    summary="设置/解除诉讼保全 / set or release legal hold",
)
def set_legal_hold(
    recording_id: RecordingId,
    body: LegalHoldIn,
    actor: Annotated[Actor, perm(P.ARCHIVE_APPROVE)],
    container: ContainerDep,
) -> ArchiveEntryOut:
    entry = container.archive.set_legal_hold(
        actor=actor, recording_id=recording_id, hold=body.hold, reason=body.reason
    )
    return entry_out(entry, not actor.principal or not actor.principal.can(P.SENSITIVE_UNMASK))


@router.get("/expiring", response_model=list[ExpiringOut], summary="即将到期的档案 / entries expiring soon")
def expiring(
    actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)],
    container: ContainerDep,
    days: Annotated[int, Query(ge=0, le=3650)] = 30,
) -> list[ExpiringOut]:
    entries = container.archive.expiring(actor=actor, days=days)
    return [
        ExpiringOut(
            recording_id=e.recording_id,
            branch_id=e.branch_id,
            branch_name=e.branch_name,
            business_type=e.business_type,
            business_no=e.business_no,
            retention_code=e.retention_code,
            expires_on=e.expires_on,
            legal_hold=e.legal_hold,
        )
        for e in entries
    ]


@router.get("/notices", response_model=list[NoticeOut], summary="档案到期提醒 / retention notices")
def notices(
    actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)],
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[NoticeOut]:
    return [
        NoticeOut(
            id=n.id,
            kind=n.kind,
            day=n.day,
            branch_id=n.branch_id,
            branch_name=n.branch_name,
            payload=n.payload,
            created_at=n.created_at,
        )
        for n in container.archive.retention.notices(actor=actor, limit=limit)
    ]
