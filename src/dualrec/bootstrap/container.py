"""The application Container: every long-lived object, built once from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, text

from dualrec.core.auth_rules import LockoutPolicy
from dualrec.db.engine import make_engine, make_session_factory
from dualrec.db.migrate import upgrade
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.auth import AuthConfig, AuthService
from dualrec.services.secretbox import SecretBox
from dualrec.settings import Settings

__all__ = ["Container", "build_container", "migrate_database"]


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uows: UnitOfWorkFactory
    auth: AuthService
    secretbox: SecretBox

    def database_ready(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def build_container(settings: Settings, *, migrate: bool = False) -> Container:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    uows = UnitOfWorkFactory(make_session_factory(engine))
    box = SecretBox(settings.secret_key.get_secret_value())
    auth = AuthService(
        uows,
        AuthConfig(
            session_ttl=timedelta(minutes=settings.session_ttl_minutes),
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            lockout=LockoutPolicy(
                settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes)
            ),
            signature_max_skew_seconds=settings.api_signature_max_skew_seconds,
        ),
        box,
    )
    return Container(settings=settings, engine=engine, uows=uows, auth=auth, secretbox=box)


def migrate_database(settings: Settings, revision: str = "head") -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url, revision)
