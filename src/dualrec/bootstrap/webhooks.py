"""The webhook dispatcher: a daemon thread that sends due webhook deliveries every few seconds.

Every ``dualrec serve`` (through ``Container.start``) and every ``dualrec worker`` runs one; they
share the work safely because each row is leased to one dispatcher before it is sent.
"""

from __future__ import annotations

import logging
import os
import threading

import httpx
from sqlalchemy import Engine

from dualrec.core.outbound import AllowList
from dualrec.db.engine import make_engine, make_session_factory
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.common.secretbox import SecretBox
from dualrec.services.tasks.webhooks import WebhookConfig, deliver_due
from dualrec.settings import Settings

__all__ = ["WebhookDispatcher", "build_webhook_dispatcher", "start_standalone_dispatcher", "webhook_config"]

logger = logging.getLogger(__name__)


def webhook_config(settings: Settings) -> WebhookConfig:
    return WebhookConfig(
        timeout_seconds=settings.webhook_timeout_seconds,
        max_attempts=settings.webhook_max_attempts,
        backoff_seconds=settings.webhook_backoff_seconds,
        backoff_cap_seconds=settings.webhook_backoff_cap_seconds,
        allow=AllowList.parse(settings.outbound_allow),
    )


class WebhookDispatcher:
    """``start()`` / ``wake()`` / ``stop()``; the thread never dies of an error (it logs and goes on)."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        secretbox: SecretBox,
        config: WebhookConfig,
        *,
        poll_seconds: float,
        engine: Engine | None = None,
    ) -> None:
        self._engine = engine  # owned (disposed on stop) when the dispatcher has its own
        self._uows = uows
        self._box = secretbox
        self._config = config
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="dualrec-webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Poll now instead of at the next tick (e.g. after an admin re-send)."""
        self._wake.set()

    def stop(self) -> None:
        """Ask the thread to finish (a try in flight completes, bounded by the HTTP timeout)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout=self._config.timeout_seconds + 5)
            if thread.is_alive():
                logger.warning(
                    "webhook dispatcher did not stop within %.0f s", self._config.timeout_seconds + 5
                )
        if self._engine is not None:
            self._engine.dispose()

    def run_once(self, http: httpx.Client) -> int:
        try:
            return deliver_due(self._uows, self._box, http, config=self._config)
        except Exception:
            logger.exception("webhook dispatch round failed; retrying at the next tick")
            return 0

    def _run(self) -> None:
        with httpx.Client(follow_redirects=False) as http:
            while not self._stop.is_set():
                self.run_once(http)
                self._wake.wait(self._poll)
                self._wake.clear()


def build_webhook_dispatcher(
    settings: Settings, uows: UnitOfWorkFactory, secretbox: SecretBox
) -> WebhookDispatcher | None:
    if not settings.webhook_enabled:
        return None
    return WebhookDispatcher(
        uows, secretbox, webhook_config(settings), poll_seconds=settings.webhook_poll_seconds
    )


def start_standalone_dispatcher(settings: Settings) -> WebhookDispatcher | None:
    """For ``dualrec worker``: a dispatcher on its own engine. Celery forks its pool processes from
    this one; a forked child drops (without closing) the connections it inherited."""
    if not settings.webhook_enabled:
        return None
    engine = make_engine(settings.resolved_database_url)
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    dispatcher = WebhookDispatcher(
        UnitOfWorkFactory(make_session_factory(engine)),
        SecretBox(settings.secret_key.get_secret_value()),
        webhook_config(settings),
        poll_seconds=settings.webhook_poll_seconds,
        engine=engine,
    )
    dispatcher.start()
    return dispatcher
