"""Live subtitles and risk alerts of a remote interview, for the interviewer of that call only.

- ``GET /rtc/tasks/{id}/live?after=<event id>&wait=<s>``: the events after ``after``; with
  ``wait`` the request is held (long poll, at most 25 s) until there is one.
- ``POST /rtc/tasks/{id}/live/alerts/{event_id}/ack``: the interviewer acknowledged an alert.
Both need ``interview:conduct``, the task in the user's branch scope (404) and the user being the
interviewer who took this attempt's customer (403). A customer's link token is no console session:
401. See services/rtc/live_events.py."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.rtc_live import LiveEventOut, LiveFeedOut
from dualrec.bootstrap.container import Container
from dualrec.core.rbac import Permission as P
from dualrec.errors import NotFoundError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.rtc.live_events import LiveEventService

router = APIRouter(prefix="/rtc", tags=["rtc"])

TaskId = Annotated[str, Path(min_length=1, max_length=36)]
EventId = Annotated[int, Path(ge=1, le=2**62)]
POLL_STEP_S = 0.3


def _service(container: Container) -> LiveEventService:
    if container.rtc is None or container.live_events is None:
        raise NotFoundError(msg("rtc.remote_interviews_enabled_dualrec_rtc"))
    return container.live_events


@router.get(
    "/tasks/{task_id}/live",
    response_model=LiveFeedOut,
    summary="通话实时字幕与风险预警 / the call's live subtitles and risk alerts (its interviewer only)",
)
async def live_feed(
    task_id: TaskId,
    actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)],
    container: ContainerDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    wait: Annotated[float, Query(ge=0, le=25)] = 0,
) -> LiveFeedOut:
    service = _service(container)
    deadline = time.monotonic() + wait
    while True:
        feed = await run_in_threadpool(service.feed, actor, task_id, after)
        if feed["events"] or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_STEP_S)
    return LiveFeedOut(
        task_id=feed["task_id"],
        attempt=feed["attempt"],
        enabled=container.settings.rtc_live_enabled,
        events=[LiveEventOut(**e) for e in feed["events"]],
    )


@router.post(
    "/tasks/{task_id}/live/alerts/{event_id}/ack",
    response_model=LiveEventOut,
    summary="坐席确认风险预警 / the interviewer acknowledges a risk alert",
)
def acknowledge_alert(
    task_id: TaskId,
    event_id: EventId,
    actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)],
    container: ContainerDep,
) -> LiveEventOut:
    return LiveEventOut(**_service(container).acknowledge(actor, task_id, event_id))
