"""One setting, one default for the accuracy a read-along (跟读) or a handwritten copy (抄录) must
reach: the live session and QC's ``answers`` check judge against the same value. The defaults of the
setting, the session's options, QC's thresholds and the docs are one number; the server's QC job and
``dualrec check`` take the setting's value, so changing it changes both."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import MagicMock

import pytest

from dualrec.bootstrap.container import job_handlers
from dualrec.checks.base import CheckContext
from dualrec.checks.builtin import answers
from dualrec.checks.catalog import default_thresholds
from dualrec.cli.check import _with_answer_defaults
from dualrec.core.flow import Marker, parse_flow
from dualrec.core.node_params import COPY_ACCURACY, READ_ALONG_ACCURACY
from dualrec.core.qc import CheckStatus
from dualrec.media.ports import TranscriptSegment
from dualrec.pipeline.nodes import spans_from_markers
from dualrec.services.common.job_kinds import QC_JOB_KIND
from dualrec.services.recordings.qc_job import QcJobRunner
from dualrec.services.sessions.service import SessionOptions
from dualrec.settings import Settings, answer_thresholds

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_session_qc_and_the_docs_share_one_default() -> None:
    fields = Settings.model_fields
    qc = default_thresholds()["answers"]
    assert fields["session_read_along_threshold"].default == READ_ALONG_ACCURACY
    assert SessionOptions().read_along_threshold == READ_ALONG_ACCURACY
    assert qc["read_along_accuracy"] == READ_ALONG_ACCURACY
    assert fields["session_copy_accuracy"].default == COPY_ACCURACY
    assert SessionOptions().copy_accuracy == COPY_ACCURACY
    assert qc["copy_accuracy"] == COPY_ACCURACY
    flows = (DOCS / "flows.md").read_text(encoding="utf-8")
    assert f"`DUALREC_SESSION_COPY_ACCURACY` ({READ_ALONG_ACCURACY:g} / {COPY_ACCURACY:g}" in flows
    checks = (DOCS / "checks.md").read_text(encoding="utf-8")
    assert f"| `read_along_accuracy` | {READ_ALONG_ACCURACY:g} |" in checks
    assert f"| `copy_accuracy` | {COPY_ACCURACY:g} |" in checks
    service = (DOCS / "self-service.md").read_text(encoding="utf-8")
    assert f"`DUALREC_SESSION_READ_ALONG_THRESHOLD`, {READ_ALONG_ACCURACY:g})" in service
    assert f"`DUALREC_SESSION_COPY_ACCURACY`, {COPY_ACCURACY:g})" in service


def test_the_server_qc_job_takes_the_sessions_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, session_read_along_threshold=0.93, session_copy_accuracy=0.71)
    container = MagicMock()  # the services the other handlers take: not used here
    container.settings = settings
    runner = job_handlers(container)[QC_JOB_KIND]
    assert isinstance(runner, QcJobRunner)
    assert runner.thresholds == {"answers": {"read_along_accuracy": 0.93, "copy_accuracy": 0.71}}


def test_the_cli_takes_the_setting_unless_its_thresholds_file_sets_one() -> None:
    settings = Settings(session_read_along_threshold=0.9)
    assert _with_answer_defaults({}, answer_thresholds(settings))["answers"]["read_along_accuracy"] == 0.9
    own = {"answers": {"read_along_accuracy": 0.7}, "silence": {"max_seconds": 3}}
    merged = _with_answer_defaults(own, answer_thresholds(settings))
    assert merged["answers"] == {"read_along_accuracy": 0.7, "copy_accuracy": COPY_ACCURACY}
    assert merged["silence"] == {"max_seconds": 3}


FLOW = parse_flow(
    {
        "id": "f",
        "nodes": [
            {
                "id": "w",
                "type": "willingness",
                "title": "跟读",
                "script": "请跟读：本人自愿购买本产品",
                "params": {"mode": "read_along"},
            }
        ],
    }
)


MARKERS = (Marker("w", 0.5, 8.0),)


@pytest.mark.parametrize(("setting", "passes"), [(READ_ALONG_ACCURACY, True), (0.95, False)])
def test_the_setting_decides_a_read_along_in_qc(setting: float, passes: bool) -> None:
    """本人自愿购买本产品 read with one syllable missing (8 of 9 = 0.89): passes the default 0.8,
    not a setting of 0.95."""
    prompt = TranscriptSegment(0.6, 3.0, "请跟读本人自愿购买本产品", confidence=None)
    said = TranscriptSegment(3.6, 6.0, "本人自愿购买本产", confidence=None)
    ctx = CheckContext(
        path="x.mp4",
        transcript=(prompt, said),
        flow=FLOW,
        markers=MARKERS,
        nodes=spans_from_markers(FLOW, MARKERS),
        thresholds=default_thresholds(
            overrides=answer_thresholds(Settings(session_read_along_threshold=setting))
        ),
    )
    r = answers.run(ctx)
    assert (r.status is CheckStatus.PASSED) is passes, r.findings
