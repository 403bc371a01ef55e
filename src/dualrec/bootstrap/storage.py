"""Builds the blob store from settings: filesystem or S3, always wrapped in envelope encryption."""

from __future__ import annotations

from dualrec.settings import Settings
from dualrec.storage.encryption import EncryptedBlobStore, KeyedBlobStore
from dualrec.storage.filesystem import FilesystemBlobStore
from dualrec.storage.keys import Keyring, load_or_create_dev_keyring
from dualrec.storage.ports import BlobStore

__all__ = ["build_blob_store", "build_encrypted_blob_store", "master_keyring"]


def master_keyring(settings: Settings) -> Keyring:
    """``DUALREC_MASTER_KEYS``, else ``DUALREC_MASTER_KEY_FILE``, else (not in production, which
    Settings already refuses) a development key generated under ``data_dir/keys``."""
    if settings.master_keys is not None:
        return Keyring.from_json(settings.master_keys.get_secret_value())
    if settings.master_key_file is not None:
        return Keyring.from_file(settings.master_key_file)
    return load_or_create_dev_keyring(settings.data_dir / "keys")


def _raw_store(settings: Settings) -> KeyedBlobStore:
    if settings.blob_backend == "s3":
        from dualrec.storage.s3 import S3BlobStore

        return S3BlobStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            access_key=settings.s3_access_key or None,
            secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
            region=settings.s3_region,
            prefix=settings.s3_prefix,
        )
    return FilesystemBlobStore(settings.data_dir / "blobs")


def build_encrypted_blob_store(settings: Settings) -> EncryptedBlobStore:
    return EncryptedBlobStore(_raw_store(settings), master_keyring(settings), algorithm=settings.blob_cipher)


def build_blob_store(settings: Settings) -> BlobStore:
    return build_encrypted_blob_store(settings)
