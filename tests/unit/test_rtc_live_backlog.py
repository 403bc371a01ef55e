"""The live worker's speech backlog (segments waiting for the one recogniser) and how a joined
pass is read back: which parts Whisper heard, and their text."""

from __future__ import annotations

from dualrec.media.ports import TranscriptSegment, Word
from dualrec.services.rtc.live_rules import SpeechSegment
from dualrec.services.rtc.live_worker import SpeechBacklog, heard_parts, joined, transcribe_parts


def _seg(start: float, seconds: float) -> SpeechSegment:
    return SpeechSegment(
        start=start, end=start + seconds, pcm=bytes(int(2 * 16000 * seconds)), ended_at=start
    )


def test_a_busy_recogniser_gets_all_the_waiting_speech_of_a_party_at_once() -> None:
    b = SpeechBacklog(["customer", "agent"], max_s=24.0)
    c1, c2, a1 = _seg(0, 3), _seg(4, 3), _seg(0, 2)
    assert b.add("customer", c1) == 0 and b.add("customer", c2) == 0 and b.add("agent", a1) == 0
    assert b.take(0) == ("customer", [c1, c2])
    assert b.take(0) == ("agent", [a1])
    assert b.take(0) is None


def test_the_parties_take_turns_and_what_was_not_heard_goes_back_to_the_front() -> None:
    b = SpeechBacklog(["customer", "agent"], max_s=24.0)
    c1, c2, c3, a1 = _seg(0, 3), _seg(4, 3), _seg(8, 3), _seg(0, 2)
    b.add("customer", c1)
    b.add("customer", c2)
    assert b.take(0) == ("customer", [c1, c2])
    b.add("customer", c3)  # said while the pass ran
    b.add("agent", a1)
    assert b.put_back("customer", [c2]) == 0  # c2 not heard in the pass: again, before c3
    assert b.take(0) == ("agent", [a1])  # but the agent's turn first
    assert b.take(0) == ("customer", [c2, c3])


def test_beyond_the_limit_the_oldest_speech_is_dropped_never_the_newest() -> None:
    b = SpeechBacklog(["customer"], max_s=10.0)
    segs = [_seg(4 * i, 4) for i in range(4)]
    dropped = [b.add("customer", s) for s in segs]
    assert dropped == [0, 0, 1, 1]
    assert b.take(0) == ("customer", segs[2:])
    long = _seg(0, 30)  # one segment longer than the limit is kept: it is the newest
    assert b.add("customer", long) == 0 and b.take(0) == ("customer", [long])


def test_joined_parts_lie_apart_by_a_pause_and_keep_the_times_of_the_first_and_last() -> None:
    a, c = _seg(10, 2), _seg(20, 3)
    one, spans = joined([a, c])
    assert spans == [(0.0, 2.0), (2.3, 5.3)]
    assert len(one.pcm) == len(a.pcm) + len(c.pcm) + 2 * 4800
    assert (one.start, one.end, one.ended_at) == (10, 23, 20)
    assert joined([a]) == (a, [(0.0, 2.0)])


def _words(*spec: tuple[float, float, str]) -> tuple[Word, ...]:
    return tuple(Word(s, e, t) for s, e, t in spec)


SPANS = [(0.0, 2.0), (2.3, 5.3), (5.6, 8.0)]


def test_all_parts_heard_give_whisper_s_own_text() -> None:
    segs = [
        TranscriptSegment(
            0.1, 5.0, "你好，我想问。", words=_words((0.1, 1.0, "你好，"), (2.5, 5.0, "我想问。"))
        ),
        TranscriptSegment(5.7, 7.9, "好的", words=_words((5.7, 7.9, "好的"))),
    ]
    assert heard_parts(segs, SPANS) == (3, "你好，我想问。好的")


def test_whisper_ending_the_window_early_leaves_the_rest_unheard() -> None:
    # a word in the pause after the first part belongs to it; nothing in the third part
    segs = [
        TranscriptSegment(
            0.1, 5.0, "一二三", words=_words((0.1, 1.0, "一"), (1.9, 2.2, "二"), (3.0, 5.0, "三"))
        )
    ]
    assert heard_parts(segs, SPANS) == (2, "一二三")
    # nothing in the second part: the third is not taken as heard even though words lie there
    segs = [TranscriptSegment(0.1, 7.0, "一三", words=_words((0.1, 1.0, "一"), (6.0, 7.0, "三")))]
    assert heard_parts(segs, SPANS) == (1, "一")
    assert heard_parts([], SPANS) == (0, "")


def test_an_engine_without_words_is_placed_by_its_segments() -> None:
    segs = [TranscriptSegment(0.0, 2.0, "甲"), TranscriptSegment(2.5, 5.0, "乙")]
    assert heard_parts(segs, SPANS) == (2, "甲乙")


class _Asr:
    def __init__(self, result: list[TranscriptSegment]) -> None:
        self.result = result
        self.seconds: list[float] = []

    def transcribe(self, audio, *, sample_rate=16000, language="zh", prompt=None):  # type: ignore[no-untyped-def]
        self.seconds.append(len(audio) / sample_rate)
        return self.result


def test_one_pass_over_the_joined_parts_and_the_first_part_counts_as_heard_even_when_silent() -> None:
    asr = _Asr([TranscriptSegment(3.0, 5.0, "我想问", words=_words((3.0, 5.0, "我想问")))])
    parts = [_seg(0, 2), _seg(3, 3), _seg(7, 2.4)]
    # the first part: nothing (noise); only the first is passed, the rest is to be done again
    assert transcribe_parts(asr, parts) == (1, "")
    assert asr.seconds == [2 + 0.3 + 3 + 0.3 + 2.4]
    # a single segment: its text, whatever the times
    assert transcribe_parts(asr, parts[:1]) == (1, "我想问")
    # other languages are no subtitles
    asr.result = [TranscriptSegment(0.0, 1.0, "hello", language="en")]
    assert transcribe_parts(asr, parts[:1]) == (1, "")
