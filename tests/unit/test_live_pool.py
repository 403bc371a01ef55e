"""The live analysis worker pool (services/sessions/live_pool.py) with real worker processes and a
fake face engine: a session stays on one worker, a worker killed with SIGKILL is replaced and the
request it held is answered, a worker that falls behind drops stale frames (newest wins) instead of
building a backlog, and every answer goes back to the request it belongs to."""

from __future__ import annotations

import io
import os
import signal
import time
from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest
from PIL import Image

from dualrec.core.liveness import Action, LivenessChallenge, PoseSample
from dualrec.media.ports import Face
from dualrec.services.sessions.live_pool import InlinePool, ProcessPool, pinned_worker


class SlowFaces:
    """One face in every picture, found after ``delay`` seconds (a busy dlib)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def detect(self, image: Any, **options: Any) -> list[Face]:
        time.sleep(self.delay)
        h, w = image.shape[:2]
        return [Face((w // 4, h // 4, 3 * w // 4, 3 * h // 4))]

    def embed(self, image: Any, face: Face) -> np.ndarray:
        return np.zeros(128)


def fast_faces() -> SlowFaces:
    return SlowFaces(0.0)


def slow_faces() -> SlowFaces:
    return SlowFaces(0.25)


def _frame(value: int = 128) -> bytes:
    rng = np.random.default_rng(value)
    arr = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)  # textured: not "covered"
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG")
    return buf.getvalue()


FRAME = _frame()


def _frame_job(t: float) -> dict[str, Any]:
    return {"data": FRAME, "t": t, "challenge": None, "reference_key": None}


@pytest.fixture
def pool() -> Any:
    p = ProcessPool(fast_faces, 2, max_wait_s=5.0, reply_timeout_s=30)
    p.start()
    yield p
    p.stop()


def test_a_session_is_pinned_to_one_worker(pool: ProcessPool) -> None:
    ids = [f"session-{i}" for i in range(12)]
    assert {pinned_worker(s, 2) for s in ids} == {0, 1}  # both workers get sessions
    pids: dict[str, set[int]] = {}
    for round_ in range(3):
        for s in ids:
            reply = pool.run(s, "frame", _frame_job(round_ / 2))
            assert reply["observation"]["face_count"] == 1, reply
            pids.setdefault(s, set()).add(reply["worker_pid"])
    assert all(len(p) == 1 for p in pids.values()), pids
    by_worker = {pool.worker_for(s): next(iter(p)) for s, p in pids.items()}
    assert len(set(by_worker.values())) == 2 and os.getpid() not in by_worker.values()


def test_results_go_back_to_their_request(pool: ProcessPool) -> None:
    futures: list[tuple[str, float, Future[dict[str, Any]]]] = []
    for i in range(20):
        session, t = f"s{i % 7}", float(i)
        if any(s == session for s, _, f in futures if not f.done()):
            futures[-1][2].result(timeout=30)  # one frame of a session at a time (the page's protocol)
        futures.append((session, t, pool.submit(session, "frame", _frame_job(t))))
    for _session, t, f in futures:
        reply = f.result(timeout=30)
        if "skipped" not in reply:
            assert reply["observation"]["t"] == t, reply


def test_a_killed_worker_is_restarted_and_the_frame_answered() -> None:
    pool = ProcessPool(slow_faces, 1, max_wait_s=10.0, reply_timeout_s=30)
    try:
        first = pool.run("s1", "frame", _frame_job(0.0))
        pid = first["worker_pid"]
        # kill -9 between two frames
        os.kill(pid, signal.SIGKILL)
        second = pool.run("s1", "frame", _frame_job(0.5))
        assert second["observation"]["face_count"] == 1 and second["worker_pid"] != pid
        # kill -9 while the worker analyses a frame: the frame is sent again to the new worker
        pid = second["worker_pid"]
        pending = pool.submit("s1", "frame", _frame_job(1.0))
        time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        third = pending.result(timeout=60)
        assert third["observation"]["t"] == 1.0 and third["worker_pid"] not in (pid, first["worker_pid"])
        stats = pool.stats()
        assert stats["restarts"] == 2 and stats["per_worker"][0]["crashes"] == 2, stats
    finally:
        pool.stop()


def test_a_worker_behind_drops_stale_frames_newest_wins() -> None:
    pool = ProcessPool(slow_faces, 1, max_wait_s=0.4, reply_timeout_s=30)
    try:
        pool.run("warm", "frame", _frame_job(0.0))  # the worker is started and its engine loaded
        # newest wins: a second frame of a session replaces the one still waiting
        busy = pool.submit("other", "frame", _frame_job(0.0))
        old = pool.submit("s1", "frame", _frame_job(1.0))
        new = pool.submit("s1", "frame", _frame_job(1.5))
        assert old.result(timeout=30) == {"skipped": "superseded"}
        assert new.result(timeout=30)["observation"]["t"] == 1.5
        busy.result(timeout=30)
        # 8 sessions at once on a worker that needs 0.25 s a frame: the ones that waited > 0.4 s are dropped
        futures = [pool.submit(f"k{i}", "frame", _frame_job(2.0)) for i in range(8)]
        replies = [f.result(timeout=30) for f in futures]
        analysed = [r for r in replies if "observation" in r]
        stale = [r for r in replies if r.get("skipped") == "stale"]
        assert 1 <= len(analysed) <= 4 and len(stale) == 8 - len(analysed), replies
        assert all(r["waited_ms"] > 400 for r in stale)
        stats = pool.stats()
        assert stats["per_worker"][0]["stale"] == len(stale) and stats["per_worker"][0]["superseded"] == 1
        assert stats["dropped"] == len(stale) + 1 and stats["per_worker"][0]["queued"] == 0
    finally:
        pool.stop()


def test_bad_frames_and_engine_errors_come_back_as_errors(pool: ProcessPool) -> None:
    bad = pool.run("s1", "frame", {**_frame_job(0.0), "data": b"not a picture"})
    assert bad["error"]["kind"] == "invalid"
    assert "observation" in pool.run("s1", "frame", _frame_job(0.5))  # the worker is still there
    assert pool.run("s1", "nonsense", {})["error"]["kind"] == "invalid"


def test_the_challenge_is_rebuilt_from_its_snapshot() -> None:
    """What a new worker takes from the persisted snapshot: the passed action, its result and the
    retries used stay; the action being asked starts again."""
    c = LivenessChallenge((Action.SHAKE, Action.NOD), retries=1)
    t = 0.0
    for yaw in (0, 0, 5, 10, 15, 10, 5, 0, 0):  # the shake passes
        c.feed(PoseSample(t, yaw, 0.0))
        t += 0.5
    for pitch in (0, 5, 10):  # half a nod, then the worker is lost
        c.feed(PoseSample(t, 0.0, pitch))
        t += 0.5
    assert c.current_action is Action.NOD and len(c.results) == 1
    again = LivenessChallenge.restore(c.snapshot())
    assert again.state == "pending" and again.current_action is Action.NOD
    assert [r.action for r in again.results] == [Action.SHAKE] and again.retries_left == 1
    for pitch in (0, 0, 5, 10, 15, 10, 5, 0, 0):
        again.feed(PoseSample(t, 0.0, pitch))
        t += 0.5
    assert again.state == "passed" and [r.action for r in again.results] == [Action.SHAKE, Action.NOD]
    with pytest.raises(ValueError):
        LivenessChallenge.restore({**c.snapshot(), "index": 7})


def test_a_core_takes_the_persisted_challenge_and_asks_for_the_reference() -> None:
    pool = InlinePool(fast_faces)
    c = LivenessChallenge((Action.SHAKE, Action.NOD))
    snap = {**c.snapshot(), "cid": "c1", "rev": 3}
    reply = pool.run("s1", "frame", {**_frame_job(0.0), "challenge": snap})
    assert reply["liveness"]["current_action"] == "shake"
    st = pool.core.session("s1")
    assert st.version == ("c1", 3) and st.challenge is not None
    # the challenge passed elsewhere: this analyser needs the proof's frame for the customer's face
    passed = {**snap, "state": "passed", "index": 2, "rev": 9}
    need = pool.run("s1", "frame", {**_frame_job(0.5), "challenge": passed, "reference_key": "k"})
    assert need == {"need_reference": True}
    ok = pool.run(
        "s1", "frame", {**_frame_job(0.5), "challenge": passed, "reference_key": "k", "reference": FRAME}
    )
    assert "liveness" not in ok and st.face is not None and st.face_cid == "c1"
    assert ok["observation"]["identity_distance"] == 0.0


def test_a_lost_proof_frame_leaves_the_session_without_identity_not_broken() -> None:
    pool = InlinePool(fast_faces)
    passed = {**LivenessChallenge((Action.SHAKE,)).snapshot(), "cid": "c2", "rev": 1, "state": "passed"}
    job = {**_frame_job(0.0), "challenge": passed, "reference_key": "gone"}
    assert pool.run("s1", "frame", job) == {"need_reference": True}
    ok = pool.run("s1", "frame", {**job, "reference": b""})  # the blob could not be read
    assert ok["observation"]["face_count"] == 1 and ok["observation"]["identity_distance"] is None
    assert "observation" in pool.run("s1", "frame", job)  # not asked again for the same check
    card = pool.run("s1", "card_face", {"data": FRAME, "challenge": passed, "reference_key": "gone"})
    assert card["distance"] is None and "活体" in card["problem"]


def test_warm_starts_every_worker_before_the_first_session() -> None:
    pool = ProcessPool(fast_faces, 2)
    try:
        assert pool.pids() == []
        pool.warm()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(w["done"] for w in pool.stats()["per_worker"]):
            time.sleep(0.1)  # started, and the models loaded
        pids = pool.pids()
        assert len(pids) == 2 and None not in pids and len(set(pids)) == 2
        reply = pool.run("s1", "frame", _frame_job(0.0))
        assert reply.get("worker_pid") in pids, reply  # no new process for it
    finally:
        pool.stop()
