"""Builds the QC engines from plain values (data dir, model dir, device, threads).

The concrete adapters are imported inside the function, so importing this module loads no model
library. An engine whose package or model files are missing is left out, with the reason, and the
checks that need it report ``not_run`` with that reason instead of passing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dualrec.media.ports import Device
from dualrec.pipeline.request import QcEngines

__all__ = ["build_qc_engines"]

logger = logging.getLogger(__name__)


def build_qc_engines(
    *,
    data_dir: Path,
    asr_model_dir: Path | None = None,
    device: Device = "cpu",
    cpu_threads: int = 0,
    asr: bool = True,
    faces: bool = True,
    ocr: bool = True,
) -> QcEngines:
    from dualrec.media.decode import DecodeOptions, PyAVAudioSource
    from dualrec.media.frame_process import ProcessFrameSource
    from dualrec.media.models import availability
    from dualrec.media.probe import PyAVProbe

    unavailable: dict[str, str] = {}

    def usable(name: str, status: availability.EngineStatus) -> bool:
        if not status.ok:
            unavailable[name] = f"{status.name} 不可用 / unavailable: {status.detail}"
            logger.warning("QC engine %s unavailable: %s", name, status.detail)
        return status.ok

    speech = vad = face_engine = text = None
    # DUALREC_DEVICE=cuda is honoured strictly by ASR (faster-whisper); the installed dlib and
    # ONNX Runtime builds are CPU-only, so the vision engines use a GPU only where they can (auto).
    vision_device: Device = "auto" if device == "cuda" else device
    if asr and usable("asr", availability.whisper_status(asr_model_dir)):
        from dualrec.media.models.whisper_asr import (
            WhisperOptions,
            WhisperSpeechRecognizer,
            default_model_dir,
        )

        speech = WhisperSpeechRecognizer(
            WhisperOptions(
                model_dir=default_model_dir(data_dir),
                custom_model_dir=asr_model_dir,
                device=device,
                cpu_threads=cpu_threads,
            )
        )
    if usable("vad", availability.webrtcvad_status()):
        from dualrec.media.models.webrtc_vad import WebRtcVoiceActivityDetector

        vad = WebRtcVoiceActivityDetector()
    if faces and usable("faces", availability.dlib_status()):
        from dualrec.media.models.dlib_faces import DlibFaceAnalyzer, DlibFaceOptions

        face_engine = DlibFaceAnalyzer(DlibFaceOptions(device=vision_device))
    if ocr and usable("ocr", availability.rapidocr_status()):
        from dualrec.media.models.rapid_ocr import RapidOCROptions, RapidTextRecognizer

        text = RapidTextRecognizer(RapidOCROptions(device=vision_device, threads=cpu_threads))
    return QcEngines(
        probe=PyAVProbe(),
        frames=ProcessFrameSource(DecodeOptions(threads=cpu_threads)),
        audio=PyAVAudioSource(),
        asr=speech,
        vad=vad,
        faces=face_engine,
        ocr=text,
        unavailable=unavailable,
    )


def with_llm_checker(
    engines: QcEngines, *, url: str, model: str, api_key: str, timeout_seconds: float, required: bool
) -> QcEngines:
    """The engines with the LLM checker's chat model (``DUALREC_QC_LLM_*``); unchanged while no URL
    is configured. ``required``: a recording whose LLM check could not run goes to REVIEW."""
    import dataclasses

    needs = {"llm_review": "运营配置为必需 / required by DUALREC_QC_LLM_REQUIRED"} if required else {}
    if not url:  # off: left out of reports, unless required (then not_run, and the verdict REVIEW)
        return dataclasses.replace(engines, required={**engines.required, **needs}) if needs else engines

    from dualrec.media.llm import OpenAiChat

    chat = OpenAiChat(url, model=model, api_key=api_key, timeout_seconds=timeout_seconds)
    return dataclasses.replace(engines, llm=chat, required={**engines.required, **needs})
