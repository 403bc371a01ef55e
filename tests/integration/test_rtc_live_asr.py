"""The live worker's recogniser passes on real recorded Mandarin (tests/data/speech) with the real
Whisper base: segments that waited while the recogniser was busy are transcribed joined, in one
pass; the parts Whisper said nothing of (it may end a window at a change of voice) are transcribed
again, so every sentence gets its subtitle, in fewer passes than one per segment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from dualrec.media.models.whisper_asr import WhisperOptions, WhisperSpeechRecognizer
from dualrec.services.rtc.live_rules import SpeechSegment
from dualrec.services.rtc.live_worker import SpeechBacklog, transcribe_parts
from tests.integration.test_engine_speech import REFERENCES, _audio, _syllables


def _errors_in_part(ref: Sequence[str | None], hyp: Sequence[str]) -> int:
    """The fewest edits that turn ``ref`` into some stretch of ``hyp`` (where it fits best)."""
    prev = [0] * (len(hyp) + 1)  # starting anywhere in hyp is free
    for i, rc in enumerate(ref, 1):
        cur = [i]
        for j, hc in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc is not None and rc != hc)))
        prev = cur
    return min(prev)  # and so is ending anywhere


def test_errors_in_part_finds_a_sentence_inside_a_longer_text() -> None:
    assert _errors_in_part(["a", "b"], ["x", "a", "b", "y"]) == 0
    assert _errors_in_part(["a", "b"], ["x", "a", "c", "y"]) == 1
    assert _errors_in_part([None, "b"], ["q", "b"]) == 0
    assert _errors_in_part(["a", "b"], []) == 2


@pytest.fixture(scope="module")
def recognizer(tmp_path_factory: pytest.TempPathFactory) -> WhisperSpeechRecognizer:
    # as the live worker builds it: one thread, greedy decoding
    model_dir = tmp_path_factory.mktemp("models") / "whisper-base"
    asr = WhisperSpeechRecognizer(WhisperOptions(model_dir=model_dir, cpu_threads=1, workers=1, beam_size=1))
    asr.load()
    return asr


def _segments(names: list[str]) -> list[SpeechSegment]:
    out, t = [], 0.0
    for name in names:
        pcm = (np.clip(_audio(name), -1, 1) * 32767).astype("<i2").tobytes()
        length = len(pcm) / 2 / 16000
        out.append(SpeechSegment(start=t, end=t + length, pcm=pcm, ended_at=1000.0 + t + length))
        t += length + 1.0
    return out


@pytest.mark.parametrize(
    "names",
    [
        # two voices: Whisper base ends the window after the news and says nothing of the question
        ["news_mid.wav", "news_long.wav", "question.wav"],
        ["question.wav", "news_mid.wav", "news_long.wav"],
        ["asr_example.wav", "asr_example.wav"],  # the same words twice: a looping microphone
    ],
)
def test_waiting_segments_get_every_sentence_in_fewer_passes(
    recognizer: WhisperSpeechRecognizer, names: list[str]
) -> None:
    backlog = SpeechBacklog(["customer"], max_s=24.0)
    for seg in _segments(names):
        assert backlog.add("customer", seg) == 0
    texts, passes = [], 0
    while (got := backlog.take(0)) is not None:
        _role, parts = got
        heard, text = transcribe_parts(recognizer, parts)
        assert 1 <= heard <= len(parts)
        passes += 1
        texts.append(text)
        backlog.put_back("customer", parts[heard:])
    print(f"\n[measure] {names}: {passes} passes → {texts}")
    assert passes <= len(names)
    hyp = [u for u in _syllables("".join(texts)) if u is not None]
    for name in dict.fromkeys(names):
        ref = _syllables(REFERENCES[name])
        # each sentence somewhere in the subtitles, at most a fifth of its syllables wrong
        assert _errors_in_part(ref, hyp) <= len(ref) * 0.2, (name, texts)
    if names[0] != names[-1]:
        assert passes < len(names), "joined passes cost fewer passes than one per segment"
    else:  # the repeated sentence: both times in the subtitles
        assert "".join(texts).count("欢迎大家") == 2, texts
