"""The labelled cases: what each recording shows, what the flow asks, and the truth per check.

``truth`` maps a check id to True (the defect is in the recording: the check must raise it) or
False (the recording is clean in that respect: the check must pass). Checks not named are not
scored for the case. ``verdicts`` is the set of acceptable verdicts; a case with a defect never
accepts PASS. ``fast`` cases form the subset ``make test`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from evalkit.scenes import Person, Scene, Shot

OPENING = "欢迎大家来体验达摩院推出的语音识别模型"  # the published transcript of asr_example.wav
MANDARIN = ("speech/asr_example.wav", "speech/question.wav", "speech/news_mid.wav")  # 16.5 s
OTHER_MANDARIN = ("speech/question.wav", "speech/news_mid.wav", "speech/news_long.wav")  # no OPENING

SAFE = frozenset({"PASS"})
UNSAFE = frozenset({"REVIEW", "FAIL"})
FAIL = frozenset({"FAIL"})


def one(photo: str, seconds: float) -> Shot:
    """One person facing the camera from arm's length, as a phone's front camera sees them."""
    return Shot(seconds, (Person(photo, 120, 320, 150),))


def pair(left: str, right: str, seconds: float) -> Shot:
    """Two people side by side (a counter: salesperson and customer)."""
    return Shot(seconds, (Person(left, 90, 170, 150), Person(right, 90, 470, 150)))


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    scene: Scene | None  # None: a damaged file (see ``damaged``)
    truth: Mapping[str, bool]
    verdicts: frozenset[str]
    id_photo: str | None = "obama1.jpg"
    script: str | None = OPENING  # the flow's one required statement
    mode: str = "self_service"
    damaged: str = ""  # empty | text | truncated
    fast: bool = False
    notes: tuple[str, ...] = field(default=())


CLEAN_FACE = {"face_presence": False, "people_count": False, "identity_consistency": False}
CLEAN_SPEECH = {"transcript": False, "script_coverage": False}

CASES: tuple[Case, ...] = (
    Case(
        "clean",
        "the customer (photo A) throughout, reads the statement; ID photo: another photo of A",
        Scene((one("obama.jpg", 16.5),), MANDARIN),
        {**CLEAN_FACE, **CLEAN_SPEECH, "identity_match": False, "file_integrity": False},
        SAFE,
        fast=True,
    ),
    Case(
        "clean_other_photo",
        "as clean, with two other photos of the same man (video and ID photo)",
        Scene((one("obama3.jpg", 16.5),), MANDARIN),
        {**CLEAN_FACE, **CLEAN_SPEECH, "identity_match": False},
        SAFE,
        id_photo="obama2.jpg",
    ),
    Case(
        "clean_second_customer",
        "a different customer (B) with B's own ID photo",
        Scene((one("biden.jpg", 16.5),), MANDARIN),
        {**CLEAN_FACE, **CLEAN_SPEECH, "identity_match": False},
        SAFE,
        id_photo="biden2.jpg",
    ),
    Case(
        "swap",
        "A for 8 s, then B takes A's place for the rest",
        Scene((one("obama.jpg", 8.0), one("biden.jpg", 8.5)), MANDARIN),
        {"identity_consistency": True, "identity_match": True, "face_presence": False},
        FAIL,
        fast=True,
    ),
    Case(
        "swap_and_back",
        "A, then B for 5 s in the middle, then A again",
        Scene((one("obama.jpg", 6.0), one("biden.jpg", 5.0), one("obama.jpg", 5.5)), MANDARIN),
        {"identity_consistency": True, "identity_match": True, "face_presence": False},
        FAIL,
    ),
    Case(
        "wrong_person",
        "B throughout, but the ID photo is A's",
        Scene((one("biden.jpg", 16.5),), MANDARIN),
        {"identity_match": True, "identity_consistency": False, "face_presence": False},
        FAIL,
        fast=True,
    ),
    Case(
        "second_person",
        "a second person stands beside the customer for 5 s (self-service: one person only)",
        Scene((one("obama.jpg", 6.0), pair("obama.jpg", "biden.jpg", 5.0), one("obama.jpg", 5.5)), MANDARIN),
        {"people_count": True, "face_presence": False},
        UNSAFE,
    ),
    Case(
        "crowd",
        "three people in the picture throughout (self-service)",
        Scene(
            (
                # a real photo with three people in it, faces ~80 px
                Shot(16.5, (Person("obama_and_biden.jpg", 80, 200, 150, sway=6),)),
            ),
            MANDARIN,
        ),
        {"people_count": True},
        UNSAFE,
    ),
    Case(
        "counter_pair",
        "counter mode: salesperson (B) and customer (A) side by side throughout",
        Scene((pair("biden.jpg", "obama.jpg", 16.5),), MANDARIN),
        {"people_count": False, "identity_match": False},
        SAFE,
        mode="counter",
    ),
    Case(
        "counter_alone",
        "counter mode: the customer alone, no salesperson in the picture",
        Scene((one("obama.jpg", 16.5),), MANDARIN),
        {"people_count": True},
        UNSAFE,
        mode="counter",
    ),
    Case(
        "counter_pair_720p",
        "counter mode, 1280×720: salesperson and customer further from the camera (faces ~70 px)",
        Scene(
            (Shot(16.5, (Person("biden.jpg", 70, 420, 330), Person("obama.jpg", 70, 860, 330))),),
            MANDARIN,
            width=1280,
            height=720,
        ),
        {"people_count": False, "face_presence": False, "identity_match": False},
        SAFE,
        mode="counter",
    ),
    Case(
        "swap_720p_small",
        "1280×720, face ~70 px: A for 8 s, then B",
        Scene(
            (
                Shot(8.0, (Person("obama.jpg", 70, 640, 330),)),
                Shot(8.5, (Person("biden.jpg", 70, 640, 330),)),
            ),
            MANDARIN,
            width=1280,
            height=720,
        ),
        {"identity_consistency": True, "identity_match": True, "face_presence": False},
        FAIL,
    ),
    Case(
        "missing_statement",
        "real Mandarin speech, but not the statement the flow requires",
        Scene((one("obama.jpg", 16.5),), OTHER_MANDARIN),
        {"script_coverage": True, "transcript": False},
        UNSAFE,
        fast=True,
    ),
    Case(
        "english_speech",
        "a real English voice instead of the Mandarin statement",
        Scene((one("obama.jpg", 10.5),), ("other/english_speech.wav",)),
        {"transcript": True, "script_coverage": True},
        UNSAFE,
        fast=True,
    ),
    Case(
        "english_phrase",
        "a short English phrase (1.45 s: too short for language detection) between two Mandarin "
        "answers; the statement itself is read",
        Scene(
            (one("obama.jpg", 13.8),),
            (
                "speech/asr_example.wav",
                "pause:0.4",
                "other/english_speech.wav#0-1.45",
                "pause:0.4",
                "speech/question.wav",
            ),
        ),
        {"transcript": True, "script_coverage": False},
        UNSAFE,
    ),
    Case(
        "music",
        "real recorded music and no speech",
        Scene((one("obama.jpg", 12.0),), ("other/music.wav",)),
        {"transcript": True, "script_coverage": True},
        UNSAFE,
    ),
    Case(
        "silent",
        "the picture is fine, nothing is said",
        Scene((one("obama.jpg", 16.5),), ()),
        {"script_coverage": True, "silence": True},
        UNSAFE,
    ),
    Case(
        "no_face",
        "the room only: nobody in front of the camera",
        Scene((Shot(16.5),), MANDARIN),
        {"face_presence": True},
        UNSAFE,
    ),
    Case("empty_file", "a zero-byte file", None, {"file_integrity": True}, FAIL, damaged="empty"),
    Case("text_file", "a text file named .mp4", None, {"file_integrity": True}, FAIL, damaged="text"),
    Case(
        "truncated_file",
        "the clean recording cut at 60 % (moov at the end)",
        None,
        {"file_integrity": True},
        FAIL,
        damaged="truncated",
        fast=True,
    ),
)


def by_name(names: list[str] | None = None, *, fast: bool = False) -> list[Case]:
    chosen = [c for c in CASES if (not fast or c.fast) and (not names or c.name in names)]
    unknown = set(names or ()) - {c.name for c in CASES}
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}")
    return chosen
