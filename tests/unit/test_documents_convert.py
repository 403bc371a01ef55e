"""How the LibreOffice step behaves around the converter: not installed, too slow, no output.

The "converters" here are small shell scripts standing in for ``soffice`` so that the time limit and
the failure paths can be exercised on any machine; the real conversion is tested in
tests/integration/test_documents_office.py when LibreOffice is installed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dualrec.errors import InvalidInputError, OfficeConverterUnavailableError
from dualrec.services.pdf.office_convert import OfficeConverter
from tests.document_factory import make_docx


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-soffice"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has ended


def test_missing_libreoffice_gives_the_clear_message() -> None:
    converter = OfficeConverter(binary="soffice-not-installed-here")
    assert not converter.available
    with pytest.raises(OfficeConverterUnavailableError) as err:
        converter.to_pdf(make_docx(["x"]), "docx")
    assert err.value.message.startswith("服务器未安装 LibreOffice，无法转换 Word/PowerPoint；请上传 PDF / ")
    assert err.value.code == "office_converter_unavailable"


def test_a_hanging_converter_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    binary = _script(tmp_path, f"sleep 60 &\necho $$ $! > {pids}\nwait\n")
    converter = OfficeConverter(binary=binary, timeout=1.0, scratch_dir=tmp_path / "scratch")
    started = time.monotonic()
    with pytest.raises(InvalidInputError, match="文件转换超时"):
        converter.to_pdf(make_docx(["x"]), "docx")
    assert time.monotonic() - started < 10
    shell, child = (int(p) for p in pids.read_text().split())
    deadline = time.monotonic() + 5
    while (_alive(shell) or _alive(child)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(shell) and not _alive(child)
    assert list((tmp_path / "scratch").iterdir()) == []  # the scratch directory is removed


def test_a_converter_that_writes_nothing_is_a_failed_conversion(tmp_path: Path) -> None:
    converter = OfficeConverter(binary=_script(tmp_path, "exit 0\n"), scratch_dir=tmp_path / "scratch")
    with pytest.raises(InvalidInputError, match="文件转换失败"):
        converter.to_pdf(make_docx(["x"]), "docx")
    assert list((tmp_path / "scratch").iterdir()) == []


def test_the_document_name_never_reaches_the_command_line(tmp_path: Path) -> None:
    args = tmp_path / "args"
    binary = _script(tmp_path, f'printf "%s\\n" "$@" > {args}\n')
    with pytest.raises(InvalidInputError):
        OfficeConverter(binary=binary).to_pdf(make_docx(["x"]), "docx")
    lines = args.read_text().splitlines()
    assert lines[-1].endswith(os.sep + "document.docx")
    assert "--headless" in lines and "--convert-to" in lines
    assert any(line.startswith("-env:UserInstallation=file://") for line in lines)


def test_only_office_formats_are_converted() -> None:
    with pytest.raises(InvalidInputError, match="不支持转换"):
        OfficeConverter().to_pdf(b"x", "xlsx")
