"""Wiring of Janus' own view of the calls' streams (``services/rtc/janus_stats.py``): the Admin API
on the media host's loopback with the admin secret of the data dir, the room key that names the
calls' rooms and feeds, and the database the samples go to."""

from __future__ import annotations

import functools

from dualrec.bootstrap.rtc import rtc_options
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.rtc.janus_config import load_or_create_secrets
from dualrec.services.rtc.janus_stats import JanusAdmin, JanusStatsSampler
from dualrec.settings import Settings

__all__ = ["build_janus_stats", "standalone_uows"]


def _admin(settings: Settings) -> JanusAdmin:
    opts = rtc_options(settings)
    return JanusAdmin(opts.admin_url, load_or_create_secrets(opts.paths.secrets_file).admin_secret)


def _room_key(settings: Settings) -> str:
    return load_or_create_secrets(rtc_options(settings).paths.secrets_file).room_key


def build_janus_stats(settings: Settings, uows: UnitOfWorkFactory) -> JanusStatsSampler | None:
    """The sampler of the process that supervises Janus; None when switched off."""
    if not settings.rtc_enabled or settings.rtc_server_stats_seconds <= 0:
        return None
    return JanusStatsSampler(
        uows,
        functools.partial(_admin, settings),
        functools.partial(_room_key, settings),
        interval=settings.rtc_server_stats_seconds,
    )


def standalone_uows(settings: Settings) -> UnitOfWorkFactory:
    """The database for ``dualrec rtc`` (no container there): quality rows hold no personal data,
    so no sealer is needed."""
    from dualrec.db.engine import make_engine, make_session_factory

    return UnitOfWorkFactory(make_session_factory(make_engine(settings.resolved_database_url)))
