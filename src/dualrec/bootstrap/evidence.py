"""The institution's evidence signing key (generated in development only) and the outside
checkpoint log, from settings: together the ``Notary`` that signs and anchors checkpoints."""

from __future__ import annotations

import logging

from dualrec.errors import ConfigurationError
from dualrec.i18n import msg
from dualrec.services.evidence.ledger import Notary
from dualrec.services.evidence.signing_key import Signer, generate_key_file, load_signer
from dualrec.settings import Settings
from dualrec.storage.ports import AppendOnlyLog

__all__ = ["checkpoint_log", "evidence_notary", "evidence_signer"]

logger = logging.getLogger(__name__)


def evidence_signer(settings: Settings) -> Signer:
    if settings.tsa_url:
        raise ConfigurationError(msg("bootstrap.rfc_3161_time_stamping_checkpoints"))
    algorithm = settings.signing_algorithm
    if settings.signing_key_file is not None:
        return load_signer(settings.signing_key_file, algorithm)
    if settings.env == "production":
        raise ConfigurationError(msg("bootstrap.dualrec_signing_key_file_must"))
    path = settings.data_dir / "keys" / f"evidence-{algorithm}.pem"
    if path.exists():
        return load_signer(path, algorithm)
    try:
        signer = generate_key_file(path, algorithm)
    except FileExistsError:  # another process generated it a moment ago
        return load_signer(path, algorithm)
    logger.warning(
        "generated a development evidence signing key at %s (key id %s); set DUALREC_SIGNING_KEY_FILE "
        "to the institution's key before real use",
        path,
        signer.key_id,
    )
    return signer


def checkpoint_log(settings: Settings) -> AppendOnlyLog | None:
    """The outside checkpoint log (None when ``DUALREC_CHECKPOINT_LOG_BACKEND=off``)."""
    kind = settings.resolved_checkpoint_log
    if kind == "off":
        return None
    if kind == "s3":
        from dualrec.storage.s3 import S3AppendLog

        return S3AppendLog(
            settings.checkpoint_log_s3_bucket or settings.s3_bucket,
            prefix=settings.checkpoint_log_s3_prefix,
            object_lock_days=settings.checkpoint_log_object_lock_days,
            object_lock_mode=settings.checkpoint_log_object_lock_mode,
            endpoint_url=settings.s3_endpoint_url or None,
            access_key=settings.s3_access_key or None,
            secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
            region=settings.s3_region,
        )
    from dualrec.storage.filesystem import FilesystemAppendLog

    return FilesystemAppendLog(settings.checkpoint_log_dir or settings.data_dir / "checkpoint-log")


def evidence_notary(settings: Settings) -> Notary:
    return Notary(evidence_signer(settings), checkpoint_log(settings))
