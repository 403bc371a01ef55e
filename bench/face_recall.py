"""Face-detection recall on small real faces in 720p (tests/face_scenes.py: labelled real photos of
several people, and rows of real faces at 60–120 px), for the visual pass's two ways of searching:

- ``wide``: what the visual pass does now on a full-frame search — the 1280×720 frame, the engine
  asked for faces down to ``VisualOptions.small_face`` of the frame's height (60 px);
- ``640``: what it did before — the frame downscaled to 640×360, the engine's default scale.

Prints recall of frontal faces per face width and overall, recall of the turned faces (not part of
the target), detections that match no labelled face, and the mean time per search.

Usage: ``.venv/bin/python bench/face_recall.py``
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from tests import face_scenes as fs  # noqa: E402

from dualrec.media.models.dlib_faces import DlibFaceAnalyzer  # noqa: E402
from dualrec.pipeline.visual import VisualOptions  # noqa: E402


def search_wide(faces: DlibFaceAnalyzer, image: np.ndarray) -> list[fs.Box]:
    min_face = max(1, round(VisualOptions().small_face * min(image.shape[:2])))
    return [f.box for f in faces.detect(image, min_face=min_face)]


def search_640(faces: DlibFaceAnalyzer, image: np.ndarray) -> list[fs.Box]:
    small = np.asarray(Image.fromarray(image).resize((640, 360), Image.Resampling.BOX), dtype=np.uint8)
    return [(2 * b[0], 2 * b[1], 2 * b[2], 2 * b[3]) for b in (f.box for f in faces.detect(small))]


def measure(name: str, search: object, faces: DlibFaceAnalyzer, scenes: list[fs.Scene]) -> float:
    per_width: dict[int, list[bool]] = defaultdict(list)
    turned: list[bool] = []
    extra = 0
    seconds = 0.0
    for scene in scenes:
        started = time.perf_counter()
        found = search(faces, scene.image)  # type: ignore[operator]
        seconds += time.perf_counter() - started
        hits = fs.matches(found, scene.labels)
        extra += len(found) - sum(hits)
        for label, hit in zip(scene.labels, hits, strict=True):
            if not label.frontal:
                turned.append(hit)
            elif label.width >= 60:
                per_width[min(fs.WIDTHS, key=lambda w: abs(w - label.width))].append(hit)
    frontal = [h for hits in per_width.values() for h in hits]
    recall = sum(frontal) / len(frontal)
    print(f"[{name}] frontal faces >= 60 px: recall {recall:.3f} ({sum(frontal)}/{len(frontal)})")
    for width in sorted(per_width):
        hits = per_width[width]
        print(f"    ~{width:3d} px: {sum(hits):3d}/{len(hits):3d} = {sum(hits) / len(hits):.3f}")
    if turned:
        print(f"    turned faces (not in the target): {sum(turned)}/{len(turned)} found")
    print(f"    detections matching no labelled face: {extra} in {len(scenes)} scenes")
    print(f"    {1000 * seconds / len(scenes):.0f} ms per search (mean of {len(scenes)})")
    return recall


def main() -> int:
    faces = DlibFaceAnalyzer()
    faces.load()
    scenes = list(fs.scenes())
    measure("wide", search_wide, faces, scenes)
    measure("640", search_640, faces, scenes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
