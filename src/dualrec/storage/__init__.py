"""Blob storage: the ``BlobStore`` port and its filesystem implementation."""

from dualrec.storage.filesystem import FilesystemBlobStore
from dualrec.storage.ports import BlobRef, BlobStat, BlobStore, Readable

__all__ = ["BlobRef", "BlobStat", "BlobStore", "FilesystemBlobStore", "Readable"]
