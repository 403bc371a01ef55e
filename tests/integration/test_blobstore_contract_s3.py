"""The BlobStore contract of tests/unit/test_blobstore_contract.py on S3: a real SeaweedFS server,
plain and encrypted (AES-256-GCM). The same test functions; only the ``variant`` fixture differs."""

from __future__ import annotations

import uuid

import pytest

from dualrec.storage.s3 import MIN_PART_BYTES, S3BlobStore
from tests.seaweedfs import SeaweedS3
from tests.unit.test_blobstore_contract import (
    Variant,
    test_a_failing_input_stream_leaves_nothing,
    test_a_large_stream_is_stored_in_pieces_with_its_hash,
    test_a_valid_but_unknown_key_is_not_found,
    test_bad_content_types_are_refused,
    test_byte_ranges_are_half_open_and_clamped,
    test_bytes_come_back_with_their_hash_size_and_type,
    test_content_over_the_limit_is_refused_and_nothing_is_kept,
    test_keys_not_made_by_put_are_refused,
    test_same_content_twice_gets_two_keys_and_deleting_one_keeps_the_other,
    test_sizes_around_record_boundaries_round_trip,
    wrapped,
)

__all__ = [
    "test_a_failing_input_stream_leaves_nothing",
    "test_a_large_stream_is_stored_in_pieces_with_its_hash",
    "test_a_valid_but_unknown_key_is_not_found",
    "test_bad_content_types_are_refused",
    "test_byte_ranges_are_half_open_and_clamped",
    "test_bytes_come_back_with_their_hash_size_and_type",
    "test_content_over_the_limit_is_refused_and_nothing_is_kept",
    "test_keys_not_made_by_put_are_refused",
    "test_same_content_twice_gets_two_keys_and_deleting_one_keeps_the_other",
    "test_sizes_around_record_boundaries_round_trip",
]


@pytest.fixture(params=["s3", "encrypted-s3"])
def variant(request: pytest.FixtureRequest, s3_server: SeaweedS3) -> Variant:
    prefix = f"contract-{uuid.uuid4().hex}/"
    inner = S3BlobStore(
        s3_server.bucket,
        endpoint_url=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        prefix=prefix,
        part_bytes=MIN_PART_BYTES,
    )
    return wrapped(request.param, inner, lambda: s3_server.list_names(prefix))
