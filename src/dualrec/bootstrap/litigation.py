"""The institution's document-signing certificate for litigation reports and auditor exports, and
the archive-system push built from settings.

``DUALREC_LITIGATION_PKCS12_FILE`` (+ ``_PASSWORD``) names the real one. Without it, development and
test deployments use a self-signed demo certificate generated once at ``DATA_DIR/keys/litigation-demo.p12``
(by ``dualrec seed`` or on first use); production refuses to sign with a demo certificate.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dualrec.core.outbound import AllowList
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConfigurationError
from dualrec.i18n import msg
from dualrec.services.archive.push import ArchivePushConfig, ArchivePusher
from dualrec.services.pdf.pades import PdfSigner, generate_demo_certificate, load_pdf_signer
from dualrec.settings import Settings
from dualrec.storage.ports import BlobStore

__all__ = ["archive_push_config", "archive_pusher", "demo_certificate_path", "pdf_signer"]

logger = logging.getLogger(__name__)


def demo_certificate_path(settings: Settings) -> Path:
    return settings.data_dir / "keys" / "litigation-demo.p12"


def pdf_signer(settings: Settings) -> PdfSigner:
    tsa_url, tsa_timeout = settings.litigation_tsa_url, settings.litigation_tsa_timeout_seconds
    if settings.litigation_pkcs12_file is not None:
        password = settings.litigation_pkcs12_password
        return load_pdf_signer(
            settings.litigation_pkcs12_file,
            password.get_secret_value().encode() if password else None,
            tsa_url=tsa_url,
            tsa_timeout=tsa_timeout,
        )
    if settings.env == "production":
        raise ConfigurationError(msg("bootstrap.dualrec_litigation_pkcs12_file_must"))
    path = demo_certificate_path(settings)
    if not path.exists():
        try:
            info = generate_demo_certificate(path)
        except FileExistsError:  # another process generated it a moment ago
            pass
        else:
            logger.warning(
                "generated a self-signed demo certificate for litigation reports at %s (SHA-256 %s); set "
                "DUALREC_LITIGATION_PKCS12_FILE to the institution's certificate before real use",
                path,
                info.sha256,
            )
    return load_pdf_signer(path, None, tsa_url=tsa_url, tsa_timeout=tsa_timeout)


def archive_push_config(settings: Settings) -> ArchivePushConfig:
    secret = settings.archive_push_secret
    return ArchivePushConfig(
        url=settings.archive_push_url,
        secret=secret.get_secret_value() if secret else "",
        max_attempts=settings.archive_push_max_attempts,
        timeout_seconds=settings.archive_push_timeout_seconds,
        allow=AllowList.parse(settings.outbound_allow),
    )


def archive_pusher(settings: Settings, uows: UnitOfWorkFactory, blobs: BlobStore) -> ArchivePusher:
    """The ``archive.push`` job handler (services.archive.push)."""
    from dualrec.bootstrap.evidence import evidence_notary

    return ArchivePusher(
        uows,
        blobs,
        lambda: evidence_notary(settings),
        archive_push_config(settings),
        settings.data_dir / "scratch",
    )
