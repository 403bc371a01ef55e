"""PAdES signatures on generated PDFs with the institution's certificate (pyHanko), and their check.

The certificate and key come from a PKCS#12 file (``DUALREC_LITIGATION_PKCS12_FILE`` + password).
Without one, development and test deployments get a self-signed demo certificate generated once
under the data directory (``generate_demo_certificate``); production refuses to sign without a real
one (see ``bootstrap.litigation``).

With ``tsa_url`` the signature carries an RFC 3161 time stamp from that authority (PAdES B-T) through
pyHanko's ``HTTPTimeStamper``; without it the signature is PAdES B-B and the signing time is the
server's own claim.

pyHanko is imported inside the functions: importing the API or the services stays light.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from dualrec.errors import ConfigurationError, EngineUnavailableError
from dualrec.i18n import msg

__all__ = [
    "CertificateInfo",
    "PdfSigner",
    "SignatureCheck",
    "generate_demo_certificate",
    "load_pdf_signer",
    "validate_signed_pdf",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

FIELD_NAME = "dualrec-institution-signature"
DEMO_SUBJECT = "dualrec 演示机构 / demo institution (NOT TRUSTED)"


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    sha256: str  # fingerprint of the DER certificate, hex
    not_after: datetime
    pem: str


@dataclass(frozen=True)
class SignatureCheck:
    """What a PDF reader's signature panel says, computed with pyHanko's validation API."""

    signed: bool
    intact: bool  # the signed bytes hash to the signed digest
    valid: bool  # the signature over that digest verifies with the certificate
    trusted: bool  # the certificate chains to one of the given trust roots
    whole_file: bool  # the signature covers every byte of the file
    signer: str = ""
    signing_time: datetime | None = None
    timestamp_valid: bool | None = None  # None: no RFC 3161 time stamp
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.valid and self.trusted and self.whole_file


def _subject(cert: Any) -> str:
    return str(cert.subject.human_friendly)


class PdfSigner:
    """Signs PDF bytes with one certificate (reusable; thread-safe: pyHanko signers hold no state)."""

    def __init__(self, signer: Any, info: CertificateInfo, *, tsa_url: str = "", tsa_timeout: float = 10.0):
        self._signer = signer
        self.certificate = info
        self.tsa_url = tsa_url
        self._tsa_timeout = tsa_timeout

    def sign(self, pdf: bytes, *, reason: str, location: str = "", contact: str = "") -> bytes:
        """Sign ``pdf`` (an incremental update). Signed twice: the second time with exactly the room
        the signature needs, so that no zero padding (bytes outside the signature's coverage that a
        reader would ignore) is left in the file."""
        from pyhanko.sign.general import SigningError
        from pyhanko.sign.timestamps.common_utils import TimestampRequestError

        def sign() -> bytes:
            first = self._sign_once(pdf, reason, location, contact, None)
            try:
                return self._sign_once(pdf, reason, location, contact, 2 * _cms_size(first))
            except SigningError:  # a time stamp token of another length: keep the padded signature
                return first

        try:
            return _outside_event_loop(sign)
        except (TimestampRequestError, OSError) as exc:
            raise EngineUnavailableError(
                msg(
                    "pdf.time_stamp_authority_failed_nothing",
                    tsa_url=self.tsa_url,
                    name__=type(exc).__name__,
                    exc=exc,
                )
            ) from exc

    def _sign_once(self, pdf: bytes, reason: str, location: str, contact: str, reserved: int | None) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        timestamper = None
        if self.tsa_url:
            from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper

            timestamper = HTTPTimeStamper(self.tsa_url, timeout=self._tsa_timeout)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location or None,
            contact_info=contact or None,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = signers.sign_pdf(
            writer, meta, signer=self._signer, timestamper=timestamper, bytes_reserved=reserved
        )
        return bytes(out.getvalue())


def _cms_size(signed_pdf: bytes) -> int:
    """Length in bytes of the DER signature container in the last signature of ``signed_pdf``."""
    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader

    sig = PdfFileReader(io.BytesIO(signed_pdf), strict=False).embedded_signatures[-1]
    contents = bytes(sig.sig_object["/Contents"])
    return len(cms.ContentInfo.load(contents, strict=False).dump())


def _info(cert_der: bytes) -> CertificateInfo:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = x509.load_der_x509_certificate(cert_der)
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        sha256=hashlib.sha256(cert_der).hexdigest(),
        not_after=cert.not_valid_after_utc,
        pem=cert.public_bytes(Encoding.PEM).decode(),
    )


def load_pdf_signer(
    pkcs12: Path, password: bytes | None, *, tsa_url: str = "", tsa_timeout: float = 10.0
) -> PdfSigner:
    from pyhanko.sign import signers

    try:
        data = pkcs12.read_bytes()
    except OSError as exc:
        raise ConfigurationError(msg("pdf.cannot_read_pkcs_12_file", pkcs12=pkcs12, exc=exc)) from exc
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=(), passphrase=password)
    except Exception as exc:  # pyHanko raises several types for a wrong password or a bad file
        raise ConfigurationError(msg("pdf.cannot_open_pkcs_12_file", pkcs12=pkcs12, exc=exc)) from exc
    if signer is None or signer.signing_cert is None:
        raise ConfigurationError(msg("pdf.certificate_key", pkcs12=pkcs12))
    return PdfSigner(signer, _info(signer.signing_cert.dump()), tsa_url=tsa_url, tsa_timeout=tsa_timeout)


def generate_demo_certificate(path: Path, *, years: int = 10) -> CertificateInfo:
    """A self-signed RSA-2048 document-signing certificate and key as PKCS#12 (no password, mode 0600).

    Raises ``FileExistsError`` when ``path`` exists (never overwrites a key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_SUBJECT),
            x509.NameAttribute(NameOID.COMMON_NAME, "dualrec litigation report signer (demo)"),
        ]
    )
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,  # non-repudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(b"dualrec-demo", key, cert, None, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return _info(cert.public_bytes(Encoding.DER))


def _outside_event_loop(fn: Callable[[], T]) -> T:
    """pyHanko's synchronous API runs its own event loop (``asyncio.run``): from a thread that already
    runs one (an async caller, Playwright's sync API) it is called in a worker thread instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def validate_signed_pdf(data: bytes, trust_roots_pem: list[str]) -> SignatureCheck:
    """Check the last signature of ``data`` against the given trust roots (PEM certificates)."""
    return _outside_event_loop(lambda: _validate(data, trust_roots_pem))


def _validate(data: bytes, trust_roots_pem: list[str]) -> SignatureCheck:
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    roots = []
    for text in trust_roots_pem:
        _, _, der = asn1_pem.unarmor(text.encode())
        roots.append(asn1_x509.Certificate.load(der))
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:
        return SignatureCheck(False, False, False, False, False, error=f"{type(exc).__name__}: {exc}")
    if not signatures:
        return SignatureCheck(False, False, False, False, False, error="no signature in the file")
    try:
        status = validate_pdf_signature(signatures[-1], ValidationContext(trust_roots=roots))
    except Exception as exc:  # a damaged signature container cannot even be parsed
        return SignatureCheck(True, False, False, False, False, error=f"{type(exc).__name__}: {exc}")
    ts = status.timestamp_validity
    return SignatureCheck(
        signed=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=_subject(status.signing_cert),
        signing_time=status.signer_reported_dt,
        timestamp_valid=None if ts is None else bool(ts.intact and ts.valid and ts.trusted),
    )
