"""The institution's evidence signing key, from settings (generated in development only)."""

from __future__ import annotations

import logging

from dualrec.errors import ConfigurationError
from dualrec.services.evidence.signing_key import Signer, generate_key_file, load_signer
from dualrec.settings import Settings

__all__ = ["evidence_signer"]

logger = logging.getLogger(__name__)


def evidence_signer(settings: Settings) -> Signer:
    if settings.tsa_url:
        raise ConfigurationError(
            "RFC 3161 时间戳尚未实现，请清空 DUALREC_TSA_URL / RFC 3161 time-stamping of checkpoints "
            "is not implemented yet: unset DUALREC_TSA_URL"
        )
    algorithm = settings.signing_algorithm
    if settings.signing_key_file is not None:
        return load_signer(settings.signing_key_file, algorithm)
    if settings.env == "production":
        raise ConfigurationError(
            "生产环境必须配置机构签名密钥 DUALREC_SIGNING_KEY_FILE / DUALREC_SIGNING_KEY_FILE must name "
            "the institution's evidence signing key in production"
        )
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
