"""The alert debouncer: raise after a condition lasted, repeat at most so often, clear after it went."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from dualrec.core.live_alerts import ALERT_PRIORITY, AlertCode, AlertDebouncer, AlertEvent, AlertOptions

NO_FACE, MULTI = AlertCode.NO_FACE, AlertCode.MULTIPLE_FACES


def feed(
    deb: AlertDebouncer, frames: Iterable[tuple[float, Sequence[AlertCode]]]
) -> list[tuple[float, str, str]]:
    out: list[tuple[float, str, str]] = []
    for t, present in frames:
        out += [(e.t, str(e.code), e.kind) for e in deb.update(t, present)]
    return out


def at_2fps(
    seconds: float, present: Sequence[AlertCode], t0: float = 0.0
) -> list[tuple[float, list[AlertCode]]]:
    return [(t0 + i / 2, list(present)) for i in range(round(seconds * 2))]


def test_a_face_leaving_is_prompted_within_two_seconds_at_2fps() -> None:
    deb = AlertDebouncer()
    frames = at_2fps(3, []) + at_2fps(3, [NO_FACE], t0=3)  # the face leaves between 2.5 and 3.0
    events = feed(deb, frames)
    assert events == [(4.0, "no_face", "raised")]  # 1 s after the first frame without it
    assert 4.0 - 2.5 <= 2.0
    assert deb.active == (NO_FACE,)


def test_a_flicker_is_never_an_alert() -> None:
    deb = AlertDebouncer()
    frames = [(i / 2, [NO_FACE] if i % 2 else []) for i in range(40)]  # every other frame misses
    assert feed(deb, frames) == []
    assert deb.active == ()


def test_a_lasting_alert_is_repeated_at_most_every_repeat_s() -> None:
    deb = AlertDebouncer(AlertOptions(repeat_s=8))
    events = feed(deb, at_2fps(20, [MULTI]))
    assert events == [
        (1.0, "multiple_faces", "raised"),
        (9.0, "multiple_faces", "repeated"),
        (17.0, "multiple_faces", "repeated"),
    ]


def test_it_clears_only_after_the_condition_has_been_gone_long_enough() -> None:
    deb = AlertDebouncer()
    frames = [*at_2fps(2, [NO_FACE]), (2.0, []), (2.5, [NO_FACE]), *at_2fps(2, [], t0=3.0)]
    events = feed(deb, frames)
    # one good frame at 2.0 does not clear it; from 3.0 on it is gone, cleared at 4.0
    assert events == [(1.0, "no_face", "raised"), (4.0, "no_face", "cleared")]
    assert deb.active == ()
    cleared = deb.update(4.5, [NO_FACE])
    assert cleared == []  # coming back needs raise_after_s again
    assert deb.update(5.5, [NO_FACE])[0].kind == "raised"


def test_several_alerts_are_listed_most_important_first() -> None:
    deb = AlertDebouncer(AlertOptions(raise_after_s=0))
    events = deb.update(0.0, [AlertCode.NOT_CUSTOMER, AlertCode.COVERED, MULTI])
    assert [e.code for e in events] == [AlertCode.COVERED, MULTI, AlertCode.NOT_CUSTOMER]
    assert deb.active == (AlertCode.COVERED, MULTI, AlertCode.NOT_CUSTOMER)
    assert ALERT_PRIORITY[0] is AlertCode.COVERED and set(ALERT_PRIORITY) == set(AlertCode)


def test_time_never_goes_back_and_must_be_a_number() -> None:
    deb = AlertDebouncer()
    deb.update(10.0, [NO_FACE])
    assert deb.update(5.0, [NO_FACE]) == []  # taken as 10.0: lasted 0 s
    assert deb.update(11.0, ["no_face"])[0].since == 10.0
    with pytest.raises(ValueError):
        deb.update(float("nan"), [])


def test_prompts_are_speakable_chinese_with_english() -> None:
    assert AlertCode.NO_FACE.prompt_zh == "请将面部移入框内"
    for code in AlertCode:
        assert code.prompt_zh and code.prompt_en and code.prompt_zh != code.prompt_en
        assert all("\u4e00" <= ch <= "\u9fff" or ch in "，" for ch in code.prompt_zh)
    event = AlertEvent(AlertCode.DARK, "raised", 1.0, 0.0)
    assert event.to_dict()["prompt_zh"] == AlertCode.DARK.prompt_zh
