"""The call-quality arithmetic (SPEC §8): E-model R → MOS, the video grade, the §8 minimum."""

from __future__ import annotations

import pytest

from dualrec.core.call_quality import (
    CallQuality,
    QualitySample,
    RecordingGap,
    below_minimum,
    coverage_gaps,
    e_model_r,
    mos_estimate,
    mos_from_r,
    summarise,
    video_grade,
)


# G.107 Annex B reference points (R → MOS)
@pytest.mark.parametrize(
    ("r", "mos"),
    [(-5, 1.0), (0, 1.0), (50, 2.575), (70, 3.597), (80, 4.024), (93.2, 4.409), (100, 4.5), (120, 4.5)],
)
def test_mos_from_r_follows_g107_annex_b(r: float, mos: float) -> None:
    assert mos_from_r(r) == pytest.approx(mos, abs=0.001)


# worked by hand from the module's formula: d = rtt/2 + 2·jitter + 20 ms,
# Id = 0.024 d + 0.11 (d − 177.3)⁺, Ie,eff = 95·Ppl / (Ppl + 25.1)
@pytest.mark.parametrize(
    ("loss", "jitter", "rtt", "r"),
    [
        (0, 0, 0, 93.2 - 0.48),  # d = 20
        (1, 0, 0, 93.2 - 0.48 - 95 / 26.1),
        (30, 0, 0, 93.2 - 0.48 - 95 * 30 / 55.1),
        (0, 0, 800, 93.2 - (0.024 * 420 + 0.11 * (420 - 177.3))),  # d = 420
        (0, 50, 100, 93.2 - 0.024 * 170),  # d = 50 + 100 + 20 = 170 < 177.3
    ],
)
def test_e_model_rating(loss: float, jitter: float, rtt: float, r: float) -> None:
    assert e_model_r(loss_pct=loss, jitter_ms=jitter, rtt_ms=rtt) == pytest.approx(r, abs=1e-6)


@pytest.mark.parametrize(
    ("loss", "jitter", "rtt", "mos"),
    [
        (0, 0, 0, 4.40),  # a clean LAN
        (1, 5, 40, 4.30),  # a good office network
        (5, 30, 100, 3.79),
        (10, 40, 150, 3.20),
        (30, 0, 0, 2.11),  # §8 weak network's loss alone takes MOS under 3
        (0, 0, 800, 2.91),  # so does 400 ms one-way delay
        (0, 800, 0, 1.00),  # and an 800 ms jitter buffered away (d = 1.6 s)
    ],
)
def test_mos_estimate_table(loss: float, jitter: float, rtt: float, mos: float) -> None:
    assert mos_estimate(loss_pct=loss, jitter_ms=jitter, rtt_ms=rtt) == mos


def test_mos_falls_with_every_impairment_and_stays_in_range() -> None:
    base = mos_estimate(loss_pct=2, jitter_ms=20, rtt_ms=100)
    assert mos_estimate(loss_pct=8, jitter_ms=20, rtt_ms=100) < base
    assert mos_estimate(loss_pct=2, jitter_ms=120, rtt_ms=100) < base
    assert mos_estimate(loss_pct=2, jitter_ms=20, rtt_ms=600) < base
    for loss in (0, 50, 100, 1e9, -5, float("nan")):
        assert 1.0 <= mos_estimate(loss_pct=loss, jitter_ms=float("inf"), rtt_ms=0) <= 4.5


def test_a_measured_jitter_buffer_replaces_the_guess() -> None:
    guessed = e_model_r(loss_pct=0, jitter_ms=100, rtt_ms=0)  # d = 220
    measured = e_model_r(loss_pct=0, jitter_ms=100, rtt_ms=0, jitter_buffer_ms=60)  # d = 80
    assert measured == pytest.approx(93.2 - 0.024 * 80)
    assert measured > guessed


@pytest.mark.parametrize(
    ("w", "h", "fps", "freeze", "grade"),
    [
        (1280, 720, 30, 0, "A"),
        (1280, 720, 19, 0, "B"),  # 720p under 20 fps is no longer §8 normal
        (1280, 720, 30, 1.5, "B"),  # a freeze costs one step
        (640, 480, 15, 0, "B"),
        (640, 360, 25, 0, "C"),
        (320, 240, 15, 0, "C"),  # the §8 weak-network minimum exactly
        (320, 240, 14, 0, "D"),
        (320, 240, 15, 2.0, "D"),
        (160, 120, 30, 0, "D"),
        (160, 120, 30, 5, "D"),  # never below D while there is a picture
        (0, 0, 0, 0, "F"),
        (640, 480, 0, 0, "F"),
        (480, 640, 25, 0, "B"),  # portrait phone: the short side counts
    ],
)
def test_video_grade(w: int, h: int, fps: float, freeze: float, grade: str) -> None:
    assert video_grade(width=w, height=h, fps=fps, freeze_s=freeze) == grade


@pytest.mark.parametrize(
    ("mos", "grade", "below"),
    [
        (4.2, "A", []),
        (3.01, "C", []),
        (3.0, "C", ["audio"]),  # §8 asks MOS > 3
        (3.5, "D", ["video"]),
        (1.0, "F", ["audio", "video"]),
        (None, "F", ["video"]),
        (2.0, None, ["audio"]),
        (None, None, []),
    ],
)
def test_below_the_section_8_minimum(mos: float | None, grade: str | None, below: list[str]) -> None:
    assert below_minimum(mos, grade) == below


def test_coverage_gaps() -> None:
    assert coverage_gaps([(0, 10), (15, 30)], 30) == [(10, 15)]
    assert coverage_gaps([(3, 10), (10.5, 29)], 30) == [(0, 3)]  # under 2 s is no gap
    assert coverage_gaps([], 12) == [(0, 12)]
    assert coverage_gaps([(0, 8), (2, 20)], 30) == [(20, 30)]  # overlapping pieces


def test_call_quality_round_trip_and_summary() -> None:
    q = CallQuality(
        samples=(
            QualitySample(t=0, role="agent", mos=4.3, grade="A"),
            QualitySample(t=2, role="agent", mos=2.5, grade="C"),
            QualitySample(t=4, role="agent", mos=3.4, grade="D"),
            QualitySample(t=6, role="agent", mos=4.0, grade="B"),
        ),
        gaps=(RecordingGap("customer", "video", 3.0, 9.0),),
        duration=10,
    )
    assert CallQuality.from_dict(q.to_dict()) == q
    assert summarise(q.samples) == {
        "samples": 4,
        "mos_min": 2.5,
        "mos_mean": 3.55,
        "grade_worst": "D",
        "below_minimum_ratio": 0.5,
    }
