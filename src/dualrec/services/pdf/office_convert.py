"""Word/PowerPoint → PDF with LibreOffice headless, when it is installed.

LibreOffice is large and optional: the server looks for ``soffice`` (or ``libreoffice``) on PATH and,
when neither is there, refuses Office documents with ``OfficeConverterUnavailableError`` (the business
system then sends a PDF). Each conversion runs in a scratch directory of its own, with its own
LibreOffice profile (so conversions can run side by side and never touch a user's profile), under a
time limit; the whole process group is killed when the limit is reached. The document is written
under a fixed name, so nothing the business system sent ever reaches the command line.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dualrec.errors import InvalidInputError, OfficeConverterUnavailableError
from dualrec.i18n import msg

__all__ = ["OFFICE_KINDS", "OfficeConverter"]

logger = logging.getLogger(__name__)

OFFICE_KINDS = frozenset({"doc", "docx", "ppt", "pptx"})
_BINARIES = ("soffice", "libreoffice")


@dataclass(frozen=True)
class OfficeConverter:
    binary: str | None = None  # None: the first of soffice / libreoffice found on PATH
    timeout: float = 120.0
    scratch_dir: Path | None = None  # where the per-conversion directories go (None: the system temp dir)

    def find(self) -> str | None:
        """The converter's path, or None when LibreOffice is not installed."""
        for name in (self.binary,) if self.binary else _BINARIES:
            found = shutil.which(name)
            if found:
                return found
        return None

    @property
    def available(self) -> bool:
        return self.find() is not None

    def to_pdf(self, data: bytes, kind: str) -> bytes:
        """Convert one document (``kind`` = doc/docx/ppt/pptx) and return the PDF's bytes."""
        if kind not in OFFICE_KINDS:
            raise InvalidInputError(msg("pdf.cannot_convert_documents", kind=kind))
        binary = self.find()
        if binary is None:
            raise OfficeConverterUnavailableError(
                msg("pdf.libreoffice_installed_server_word_powerpoint"),
                details={"kind": kind},
            )
        if self.scratch_dir is not None:
            self.scratch_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="dualrec-office-", dir=self.scratch_dir) as tmp:
            work = Path(tmp)
            source = work / f"document.{kind}"
            source.write_bytes(data)
            out = work / "out"
            self._run(binary, source, out, work)
            pdf = out / "document.pdf"
            if not pdf.is_file() or pdf.stat().st_size == 0:
                raise InvalidInputError(
                    msg("pdf.document_could_converted_pdf_damaged"),
                    details={"kind": kind},
                )
            return pdf.read_bytes()

    def _run(self, binary: str, source: Path, out: Path, work: Path) -> None:
        cmd = [
            binary,
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ]
        env = {**os.environ, "HOME": str(work)}
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=work,
            start_new_session=True,  # its own process group: a timeout kills the helpers too
        )
        try:
            output, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise InvalidInputError(
                msg("pdf.converting_document_took_longer_than", timeout=self.timeout),
                details={"timeout_s": self.timeout},
            ) from None
        if proc.returncode != 0:
            logger.warning(
                "LibreOffice exited with %s: %s", proc.returncode, output.decode("utf-8", "replace")[-500:]
            )
