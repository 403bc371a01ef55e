"""The SPEC §7 message protocol of the local QC agent (field names byte-compatible with the patent).

Requests are JSON objects with a string ``interfaceID``; every request gets exactly one answer
``{"interfaceID", "result": "success"|"fail", "msg", ...}`` — a malformed or unknown message gets a
``fail`` answer with the reason, never a dropped connection. See docs/agent.md for every message.

=========  ==============================================================================
100001     start QC: ``runningNo``, ``filePath``, optional ``businessType``, ``checkItems``
100002     the operator confirms the report: queue video + report for upload (``operator``)
100003     read the report: ``info.check_data`` in the SPEC §5 format
100004     upload state of a confirmed ``runningNo``
100005     pushed by the agent over WebSocket when a QC started on that connection finishes
=========  ==============================================================================
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dualrec.core import bounded_json
from dualrec.core.agent_package import RUNNING_NO
from dualrec.errors import DualrecError
from dualrec.services.device.agent import DeviceAgent, LocalTask, LocalUpload

__all__ = [
    "CONFIRM",
    "QC_FINISHED",
    "READ_REPORT",
    "START_QC",
    "UPLOAD_STATE",
    "MessageHandler",
    "ProtocolError",
    "fail",
    "finished_push",
    "parse_message",
]

logger = logging.getLogger(__name__)

START_QC, CONFIRM, READ_REPORT, UPLOAD_STATE, QC_FINISHED = "100001", "100002", "100003", "100004", "100005"
READ_ONLY = frozenset({READ_REPORT, UPLOAD_STATE})  # may also be sent as GET /?interfaceID=…
MAX_CHECK_ITEMS = 50


class ProtocolError(Exception):
    def __init__(self, message: str, interface_id: str = "") -> None:
        super().__init__(message)
        self.message, self.interface_id = message, interface_id


def fail(interface_id: str, msg: str, **extra: Any) -> dict[str, Any]:
    return {"interfaceID": interface_id, "result": "fail", "msg": msg, **extra}


def success(interface_id: str, msg: str, **extra: Any) -> dict[str, Any]:
    return {"interfaceID": interface_id, "result": "success", "msg": msg, **extra}


def parse_message(raw: str | bytes, max_bytes: int) -> dict[str, Any]:
    """The request object, or ProtocolError naming what is wrong with it."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise ProtocolError(
            f"消息过大（{size} 字节，上限 {max_bytes}）/ message too large: {size} > {max_bytes} bytes"
        )
    try:
        message = bounded_json.loads(raw)
    except bounded_json.JsonTooComplexError as exc:
        raise ProtocolError(f"消息无法处理 / the message cannot be processed: {exc.message}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"消息不是合法的 JSON / the message is not valid JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("消息须为 JSON 对象 / the message must be a JSON object")
    iid = message.get("interfaceID")
    if iid is None:
        raise ProtocolError("缺少 interfaceID / interfaceID is missing")
    if not isinstance(iid, str):
        raise ProtocolError(
            'interfaceID 须为字符串（如 "100001"）/ interfaceID must be a string, e.g. "100001"'
        )
    return message


def _text(message: dict[str, Any], name: str, *, required: bool, limit: int) -> str:
    iid = str(message.get("interfaceID", ""))
    value = message.get(name)
    if value is None:
        if required:
            raise ProtocolError(f"缺少字段 {name} / {name} is missing", iid)
        return ""
    if not isinstance(value, str):
        raise ProtocolError(f"{name} 须为字符串 / {name} must be a string", iid)
    if len(value) > limit or (required and not value.strip()):
        raise ProtocolError(f"{name} 须为 1–{limit} 个字符 / {name} must be 1-{limit} characters", iid)
    return value


def _running_no(message: dict[str, Any]) -> str:
    value = _text(message, "runningNo", required=True, limit=64)
    if not RUNNING_NO.match(value):
        raise ProtocolError(
            "runningNo 只能含字母、数字、_ . -（以字母或数字开头）/ runningNo: letters, digits, _ . - only",
            str(message.get("interfaceID", "")),
        )
    return value


def _items(message: dict[str, Any]) -> list[str]:
    value = message.get("checkItems")
    if value is None:
        return []
    ok = isinstance(value, list) and len(value) <= MAX_CHECK_ITEMS
    if not ok or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in value):
        raise ProtocolError(
            f"checkItems 须为字符串列表（至多 {MAX_CHECK_ITEMS} 项）/ checkItems must be a list of strings",
            str(message.get("interfaceID", "")),
        )
    return list(value)


def _upload_info(upload: LocalUpload) -> dict[str, Any]:
    return {
        "state": upload.state,
        "sent": upload.sent,
        "size": upload.size,
        "attempts": upload.attempts,
        "last_error": upload.last_error,
        "next_try_at": (
            time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(upload.next_try_at))
            if upload.state in ("queued", "uploading") and upload.next_try_at
            else None
        ),
        "package_id": upload.package_id,
        "recording_id": upload.recording_id,
        "task_id": upload.task_id,
        "confirmed_at": upload.confirmed_at,
        "uploaded_at": upload.uploaded_at,
    }


def _local_images(agent: DeviceAgent, running_no: str, check_data: dict[str, Any]) -> dict[str, Any]:
    """``image_path`` as the absolute path of the frame on this device (stored as ``evidence/<f>``)."""
    items = []
    for item in check_data.get("check_list", []):
        image = (item.get("extra_info") or {}).get("image") or {}
        ref = image.get("image_path")
        if isinstance(ref, str) and ref.startswith("evidence/"):
            path = str(agent.evidence_path(running_no, ref))
            item = {**item, "extra_info": {**item["extra_info"], "image": {**image, "image_path": path}}}
        items.append(item)
    return {**check_data, "check_list": items}


def finished_push(agent: DeviceAgent, task: LocalTask) -> dict[str, Any]:
    """The 100005 message pushed to the WebSocket clients that started this QC."""
    if task.state == "done":
        return success(
            QC_FINISHED,
            "质检完成，可用 100003 读取报告 / QC finished: read the report with 100003",
            runningNo=task.running_no,
            info={"state": "done", "verdict": task.verdict, "risk_score": task.risk_score},
        )
    return fail(
        QC_FINISHED,
        f"质检失败 / QC failed: {task.error}",
        runningNo=task.running_no,
        info={"state": task.state, "error": task.error},
    )


class MessageHandler:
    """Answers one request (blocking: call it from a worker thread). ``wake_qc``/``wake_upload``
    nudge the background workers after a start or a confirmation."""

    def __init__(
        self,
        agent: DeviceAgent,
        *,
        max_message_bytes: int,
        wake_qc: Callable[[], None] = lambda: None,
        wake_upload: Callable[[], None] = lambda: None,
    ) -> None:
        self.agent = agent
        self.max_message_bytes = max_message_bytes
        self._wake_qc, self._wake_upload = wake_qc, wake_upload
        self.routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            START_QC: self._start,
            CONFIRM: self._confirm,
            READ_REPORT: self._report,
            UPLOAD_STATE: self._upload_state,
        }

    def handle_raw(self, raw: str | bytes) -> dict[str, Any]:
        try:
            message = parse_message(raw, self.max_message_bytes)
        except ProtocolError as exc:
            return fail(exc.interface_id, exc.message)
        return self.handle(message)

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        iid = str(message.get("interfaceID", ""))
        route = self.routes.get(iid)
        if route is None:
            known = ", ".join(sorted(self.routes))
            return fail(
                iid, f"未知的接口号 {iid!r}（支持 {known}）/ unknown interfaceID {iid!r}, known: {known}"
            )
        try:
            return route(message)
        except ProtocolError as exc:
            return fail(iid, exc.message)
        except DualrecError as exc:
            return fail(iid, exc.message, **{k: v for k, v in exc.details.items() if k in ("state",)})
        except Exception:
            logger.exception("agent message %s failed", iid)
            return fail(iid, "服务内部错误 / internal error (see the agent log)")

    def _start(self, message: dict[str, Any]) -> dict[str, Any]:
        rn = _running_no(message)
        file_path = _text(message, "filePath", required=True, limit=4096)
        business_type = _text(message, "businessType", required=False, limit=64)
        task, started = self.agent.start_qc(
            running_no=rn, file_path=file_path, business_type=business_type, check_items=_items(message)
        )
        if started:
            self._wake_qc()
            return success(START_QC, "质检已开始 / QC started", runningNo=rn, state=task.state)
        if task.file_path != str(self.agent.resolve_recording(file_path)):
            return fail(
                START_QC,
                "该流水号已用于另一个录像文件 / this runningNo is already used for another recording",
                runningNo=rn,
                state=task.state,
            )
        if task.state == "done":
            return fail(
                START_QC,
                "该流水号已完成质检，未重复执行；请用 100003 读取报告 / QC of this runningNo is already done "
                "(not run again): read the report with 100003",
                runningNo=rn,
                state=task.state,
            )
        return fail(
            START_QC,
            f"该流水号正在质检（{task.state}），未重复启动 / QC of this runningNo is already {task.state} "
            "(not started again)",
            runningNo=rn,
            state=task.state,
            progress=task.progress,
        )

    def _report(self, message: dict[str, Any]) -> dict[str, Any]:
        rn = _running_no(message)
        task = self.agent.task(rn)
        if task.state == "done" and task.check_data is not None:
            return success(
                READ_REPORT,
                "质检报告 / QC report",
                runningNo=rn,
                state="done",
                info={"check_data": _local_images(self.agent, rn, task.check_data)},
            )
        if task.state == "error":
            return fail(READ_REPORT, f"质检失败 / QC failed: {task.error}", runningNo=rn, state="error")
        return fail(
            READ_REPORT,
            f"质检尚未完成（{task.state}）/ QC has not finished yet ({task.state})",
            runningNo=rn,
            state=task.state,
            progress=task.progress,
        )

    def _confirm(self, message: dict[str, Any]) -> dict[str, Any]:
        rn = _running_no(message)
        operator = _text(message, "operator", required=False, limit=64)
        upload, added = self.agent.confirm(running_no=rn, operator=operator)
        self._wake_upload()
        msg = (
            "已确认，视频与报告已加入上传队列 / confirmed: video and report queued for upload"
            if added
            else "此前已确认，未重复加入 / already confirmed (not queued again)"
        )
        return success(CONFIRM, msg, runningNo=rn, info={"upload": _upload_info(upload)})

    def _upload_state(self, message: dict[str, Any]) -> dict[str, Any]:
        rn = _running_no(message)
        upload = self.agent.upload(rn)
        if upload is None:
            return fail(UPLOAD_STATE, "尚未确认上传 / not confirmed for upload yet", runningNo=rn)
        return success(
            UPLOAD_STATE, "上传状态 / upload state", runningNo=rn, info={"upload": _upload_info(upload)}
        )


def evidence_file(agent: DeviceAgent, running_no: str, name: str) -> Path | None:
    """An evidence frame of a finished QC, for the HTTP route (None when there is none)."""
    if not RUNNING_NO.match(running_no) or not name.endswith(".jpg") or "/" in name or name.startswith("."):
        return None
    path = agent.evidence_path(running_no, name)
    return path if path.is_file() else None
