"""Blob store on any S3-compatible object storage (MinIO, SeaweedFS, Ceph RGW, AWS S3, OSS/COS...).

Objects: ``PREFIX<key>`` holds the bytes, ``PREFIX<key>.json`` the metadata (SHA-256, size, content
type, creation time). The metadata object is written **after** the data and is the commit marker:
a blob exists only when its metadata does (``exists``/``stat``/``open`` check it). A multipart
upload's user metadata is fixed when the upload starts, before the hash is known — hence the
separate object rather than S3 user metadata.

``put`` streams: inputs up to ``part_bytes`` go in one PUT, larger ones in a multipart upload of
``part_bytes`` parts (one part in memory at a time), aborted on any failure or when ``max_bytes``
is passed, so nothing partial is ever visible.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, Literal

from dualrec.errors import ConfigurationError, ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.storage.ports import (
    BlobRef,
    BlobStat,
    LogEntryExistsError,
    Readable,
    check_content_type,
    check_key,
    check_log_name,
)

__all__ = ["S3AppendLog", "S3BlobStore", "s3_client"]

logger = logging.getLogger(__name__)

MIN_PART_BYTES = 5 * 1024 * 1024  # the S3 minimum for every part but the last
MAX_RANGE_BYTES = 64 * 1024 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class _BodyReader(io.RawIOBase):
    def __init__(self, body: Any) -> None:  # botocore StreamingBody
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


def _read_part(source: Readable, size: int, limit: int | None, seen: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size:
        chunk = source.read(min(size - got, 1024 * 1024))
        if not chunk:
            break
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise InvalidInputError("blob input must yield bytes")
        got += len(chunk)
        if limit is not None and seen + got > limit:
            raise InvalidInputError(msg("storage.content_too_large"), details={"limit_bytes": limit})
        parts.append(bytes(chunk))
    return b"".join(parts)


def s3_client(endpoint_url: str | None, access_key: str | None, secret_key: str | None, region: str) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ConfigurationError(msg("storage.s3_blob_backend_needs_boto3")) from None
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        region_name=region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
    )


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
        part_bytes: int = 8 * 1024 * 1024,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ConfigurationError(msg("storage.dualrec_s3_bucket_set"))
        if part_bytes < MIN_PART_BYTES:
            raise ConfigurationError("S3 part size must be at least 5 MiB")
        if client is None:
            client = s3_client(endpoint_url, access_key, secret_key, region)
        self._s3 = client
        self._bucket = bucket
        self._prefix = prefix
        self._part_bytes = part_bytes

    @property
    def client(self) -> Any:
        return self._s3

    def _name(self, key: str) -> str:
        return f"{self._prefix}{check_key(key)}"

    def _meta(self, key: str) -> dict[str, Any] | None:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=self._name(key) + ".json")["Body"]
        except self._s3.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                return None
            raise
        with body:
            meta: dict[str, Any] = json.loads(body.read())
        return meta

    def put(self, data: bytes | Readable, *, content_type: str, max_bytes: int | None = None) -> BlobRef:
        return self.put_as(uuid.uuid4().hex, data, content_type=content_type, max_bytes=max_bytes)

    def put_as(
        self,
        key: str,
        data: bytes | Readable,
        *,
        content_type: str,
        max_bytes: int | None = None,
        replace: bool = False,
    ) -> BlobRef:
        content_type = check_content_type(content_type)
        source: Readable = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
        name = self._name(key)
        if not replace and self.exists(key):
            raise ConflictError(msg("storage.blob_key_exists"), details={"key": key})
        digest = hashlib.sha256()
        first = _read_part(source, self._part_bytes, max_bytes, 0)
        digest.update(first)
        if len(first) < self._part_bytes:
            size = len(first)
            self._s3.put_object(Bucket=self._bucket, Key=name, Body=first, ContentType=content_type)
        else:
            size = self._multipart(name, first, source, digest, content_type, max_bytes)
        sha256 = digest.hexdigest()
        meta = {
            "sha256": sha256,
            "size": size,
            "content_type": content_type,
            "created_at": datetime.now(UTC).isoformat(),
        }
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=name + ".json",
                Body=json.dumps(meta).encode(),
                ContentType="application/json",
            )
        except BaseException:
            if not replace:
                self._s3.delete_object(Bucket=self._bucket, Key=name)
            raise
        logger.debug("stored blob %s (%d bytes) in s3://%s", key, size, self._bucket)
        return BlobRef(key=key, sha256=sha256, size=size)

    def _multipart(
        self,
        name: str,
        first: bytes,
        source: Readable,
        digest: Any,
        content_type: str,
        max_bytes: int | None,
    ) -> int:
        upload = self._s3.create_multipart_upload(Bucket=self._bucket, Key=name, ContentType=content_type)
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        size = 0
        try:
            part = first
            while part:
                number = len(parts) + 1
                sent = self._s3.upload_part(
                    Bucket=self._bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=part
                )
                parts.append({"PartNumber": number, "ETag": sent["ETag"]})
                size += len(part)
                part = _read_part(source, self._part_bytes, max_bytes, size)
                digest.update(part)
            self._s3.complete_multipart_upload(
                Bucket=self._bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=name, UploadId=upload_id)
            raise
        return size

    def _get(self, key: str, byte_range: str | None = None) -> Any:
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Key": self._name(key)}
        if byte_range:
            kwargs["Range"] = byte_range
        try:
            return self._s3.get_object(**kwargs)
        except self._s3.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                raise NotFoundError(msg("storage.blob_found"), details={"key": key}) from None
            raise

    def open(self, key: str) -> BinaryIO:
        if not self.exists(key):
            raise NotFoundError(msg("storage.blob_found"), details={"key": key})
        return io.BufferedReader(_BodyReader(self._get(key)["Body"]), buffer_size=1024 * 1024)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """One ranged GET in the common case; the size (a metadata read) is looked up only when the
        server refuses the range (start past the end, empty object) or to apply the size cap."""
        if start < 0 or end < start:
            raise InvalidInputError(msg("storage.invalid_byte_range"), details={"start": start, "end": end})
        if start == end or end - start > MAX_RANGE_BYTES:
            return self._read_range_with_size(key, start, end)
        try:
            response = self._get(key, f"bytes={start}-{end - 1}")
        except self._s3.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in {"InvalidRange", "416"}:
                return self._read_range_with_size(key, start, end)
            raise
        with response["Body"] as body:
            data: bytes = body.read()
        return data

    def _read_range_with_size(self, key: str, start: int, end: int) -> bytes:
        size = self.stat(key).size
        if start >= size and not (start == 0 and size == 0):
            raise InvalidInputError(
                msg("storage.byte_range_beyond_end"), details={"start": start, "size": size}
            )
        end = min(end, size)
        if end - start > MAX_RANGE_BYTES:
            raise InvalidInputError(
                msg("storage.byte_range_too_large"), details={"limit_bytes": MAX_RANGE_BYTES}
            )
        if start == end:
            return b""
        with self._get(key, f"bytes={start}-{end - 1}")["Body"] as body:
            data: bytes = body.read()
        return data

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            self._s3.head_object(Bucket=self._bucket, Key=name + ".json")
        except self._s3.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                return False
            raise
        return True

    def stat(self, key: str) -> BlobStat:
        meta = self._meta(key)
        if meta is None:
            raise NotFoundError(msg("storage.blob_found"), details={"key": key})
        return BlobStat(
            key=key,
            sha256=str(meta["sha256"]),
            size=int(meta["size"]),
            content_type=str(meta["content_type"]),
            created_at=datetime.fromisoformat(meta["created_at"]),
        )

    def delete(self, key: str) -> bool:
        existed = self.exists(key)
        name = self._name(key)
        self._s3.delete_object(Bucket=self._bucket, Key=name + ".json")  # un-commit first
        self._s3.delete_object(Bucket=self._bucket, Key=name)
        return existed


def _error_code(exc: Any) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code"))


class S3AppendLog:
    """``AppendOnlyLog`` in an S3 bucket: ``PREFIX<name>``, written with ``If-None-Match: *`` (the
    server refuses an existing name; a HEAD first also covers servers that ignore the header).

    ``object_lock_days > 0``: every entry is written with an Object Lock retention (``mode``,
    retain-until now + days), so not even the bucket's owner can delete or replace that version before
    then (COMPLIANCE). The bucket must have been created with Object Lock enabled, which also makes
    it versioned: a later PUT of the same name adds a version instead of replacing the locked one, and
    ``rewritten`` reports every name with more than one version.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "checkpoint-log/",
        object_lock_days: int = 0,
        object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE",
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ConfigurationError(msg("storage.s3_bucket_checkpoint_log"))
        self._s3 = client if client is not None else s3_client(endpoint_url, access_key, secret_key, region)
        self._bucket, self._prefix = bucket, prefix
        self._lock_days, self._lock_mode = object_lock_days, object_lock_mode

    @property
    def location(self) -> str:
        return f"s3://{self._bucket}/{self._prefix}"

    def _exists_error(self, name: str) -> LogEntryExistsError:
        return LogEntryExistsError(
            msg("storage.log_entry_exists_never_overwritten"),
            details={"name": name, "log": self.location},
        )

    def append(self, name: str, data: bytes) -> None:
        key = self._prefix + check_log_name(name)
        if self.read(name) is not None:
            raise self._exists_error(name)
        extra: dict[str, Any] = {}
        if self._lock_days > 0:
            extra["ObjectLockMode"] = self._lock_mode
            extra["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=self._lock_days)
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType="application/json",
                IfNoneMatch="*",
                **extra,
            )
        except self._s3.exceptions.ClientError as exc:
            if _error_code(exc) in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                raise self._exists_error(name) from None
            raise

    def read(self, name: str) -> bytes | None:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=self._prefix + check_log_name(name))["Body"]
        except self._s3.exceptions.ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise
        with body:
            data: bytes = body.read()
        return data

    def names(self) -> list[str]:
        out: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._prefix
        ):
            out.extend(item["Key"][len(self._prefix) :] for item in page.get("Contents", []))
        return sorted(n for n in out if n and "/" not in n)

    def rewritten(self) -> list[str]:
        counts: dict[str, int] = {}
        try:
            pages = self._s3.get_paginator("list_object_versions").paginate(
                Bucket=self._bucket, Prefix=self._prefix
            )
            for page in pages:
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    name = item["Key"][len(self._prefix) :]
                    counts[name] = counts.get(name, 0) + 1
        except self._s3.exceptions.ClientError as exc:
            if _error_code(exc) in {"NotImplemented", "501"}:
                return []  # a store without versions cannot keep two writes of a name
            raise
        return sorted(n for n, c in counts.items() if c > 1)
