"""An OpenAI-compatible chat client (``POST {base}/chat/completions``) for the LLM checker.

The base URL is the operator's (``DUALREC_QC_LLM_URL``, e.g. a model served on the bank's own
network): only ``http`` and ``https`` are accepted and redirects are not followed. The API key goes
in the ``Authorization`` header only and is never part of an error message or a log line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from dualrec.media.ports import ChatError

__all__ = ["OpenAiChat"]

MAX_ANSWER_BYTES = 2 * 1024 * 1024


class OpenAiChat:
    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str = "",
        timeout_seconds: float = 60.0,
        max_tokens: int = 2048,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("the LLM URL must be an http(s) URL")
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._key = api_key
        self._timeout = timeout_seconds
        self._max_tokens = max_tokens

    @property
    def model(self) -> str:
        return self._model

    def __repr__(self) -> str:  # no key in reprs (tracebacks, debuggers)
        return f"OpenAiChat({self._url!r}, model={self._model!r})"

    def complete(self, messages: Sequence[Mapping[str, str]]) -> str:
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [dict(m) for m in messages],
            "temperature": 0,
            "max_tokens": self._max_tokens,
            "response_format": {"type": "json_object"},
        }
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False, trust_env=False) as client:
                r = client.post(self._url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise ChatError(f"超时 / timed out after {self._timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise ChatError(f"连接失败 / request failed: {type(exc).__name__}") from exc
        if r.status_code != 200:
            raise ChatError(f"HTTP {r.status_code}")
        if len(r.content) > MAX_ANSWER_BYTES:
            raise ChatError("应答过大 / answer too large")
        try:
            data = json.loads(r.content)
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ChatError("应答格式错误 / not a chat completion") from exc
        if not isinstance(content, str) or not content.strip():
            raise ChatError("应答为空 / empty answer")
        return content
