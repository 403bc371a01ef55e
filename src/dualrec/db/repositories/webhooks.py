"""Webhook deliveries (filled in by the webhook work)."""

from __future__ import annotations

from sqlalchemy.orm import Session

__all__ = ["WebhookRepository"]


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self._s = session
