"""Chinese OCR with RapidOCR (PP-OCRv4 det/rec + angle classifier, ONNX Runtime), Apache-2.0.

The ONNX models ship inside the ``rapidocr-onnxruntime`` wheel; nothing is downloaded.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from dualrec.errors import EngineUnavailableError
from dualrec.i18n import msg
from dualrec.media.ports import Device, Image, TextLine

__all__ = ["RapidOCROptions", "RapidTextRecognizer"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RapidOCROptions:
    device: Device = "cpu"
    threads: int = 0  # 0: ONNX Runtime default (all cores)
    min_confidence: float = 0.5  # lines recognised below this score are dropped by RapidOCR


_engines: dict[tuple[bool, int, float], Any] = {}
_engines_lock = threading.Lock()


def _use_cuda(device: Device) -> bool:
    if device == "cpu":
        return False
    import onnxruntime  # type: ignore[import-untyped]

    available = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    if device == "cuda" and not available:
        raise EngineUnavailableError(
            msg("media.onnx_runtime_cuda_execution_provider"),
            details={"engine": "rapidocr", "device": device},
        )
    return available


def _engine(options: RapidOCROptions) -> Any:
    cuda = _use_cuda(options.device)
    key = (cuda, options.threads, options.min_confidence)
    with _engines_lock:
        if key not in _engines:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise EngineUnavailableError(
                    msg("media.ocr_engine_installed_pip_install"),
                    details={"engine": "rapidocr", "error": str(exc)},
                ) from exc
            kwargs: dict[str, Any] = {"text_score": options.min_confidence}
            if options.threads:
                kwargs["intra_op_num_threads"] = options.threads
            if cuda:
                kwargs.update(det_use_cuda=True, cls_use_cuda=True, rec_use_cuda=True)
            logger.info("loading OCR models (cuda=%s)", cuda)
            _engines[key] = RapidOCR(**kwargs)
        return _engines[key]


class RapidTextRecognizer:
    """``TextRecognizer`` on RapidOCR; takes RGB, feeds the BGR array RapidOCR expects."""

    def __init__(self, options: RapidOCROptions | None = None) -> None:
        self.options = options or RapidOCROptions()
        _use_cuda(self.options.device)

    def load(self) -> None:
        _engine(self.options)

    def recognize(self, image: Image) -> list[TextLine]:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError("expected an RGB uint8 image of shape (H, W, 3)")
        engine = _engine(self.options)
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        result, _elapsed = engine(bgr)
        lines: list[TextLine] = []
        for box, text, score in result or ():
            polygon = tuple((float(x), float(y)) for x, y in box)
            lines.append(TextLine(text=str(text), confidence=float(score), box=polygon))
        return lines
