"""Remote interviews: the call's quality against the SPEC §8 minimum, and the gaps of the server's
recording. What each browser received every 2 s (audio MOS estimate, video grade:
``core.call_quality``) lies on the recording's timeline; every stretch of at least ``min_duration``
under the minimum (MOS ≤ ``min_mos`` or a picture under 320×240 at 15 fps) is a finding with its
times, as is every stretch where the server recorded nothing of a party's stream, and a stretch
where a party's browser stopped reporting.

Janus' own view (rows ``janus-<party>``: what the server received of each party's publisher, the
recording's input) is judged too, on audio: its loss, jitter and the party's RTT give a MOS
estimate, and a stretch at or under ``min_mos`` is a finding of its own — the recording itself is
degraded there, whatever the browsers said (a browser's reports can be missing or wrong; the
server's figures are not the browser's to write). Video is not judged from Janus' figures: its
loss is counted before retransmission repairs it, and a picture that stopped is a recording gap.
Not run for recordings that are not calls."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.segments import flag_runs
from dualrec.core.call_quality import QualitySample, below_minimum, mos_estimate, summarise
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.i18n import msg, pair

ID = "call_quality"
PARTY = {"customer": ("客户端", "the customer's side"), "agent": ("坐席端", "the agent's side")}
KIND = {"audio": ("音频", "audio"), "video": ("视频", "video")}
MAX_SERIES = 900  # points kept in the report for the playback chart


def _describe(s: QualitySample) -> tuple[str, str]:
    mos = "—" if s.mos is None else f"{s.mos:.2f}"
    pic = f"{s.width}×{s.height} {s.fps:.0f}fps"
    net = f"loss {s.loss_pct:.0f}% jitter {s.jitter_ms:.0f}ms RTT {s.rtt_ms:.0f}ms"
    return (
        f"MOS {mos}，视频 {s.grade or '—'} {pic}，{net}",
        f"MOS {mos}, video {s.grade or '—'} {pic}, {net}",
    )


def _below_runs(ctx: CheckContext, role: str, samples: Sequence[QualitySample], step: float) -> list[Finding]:
    min_mos, min_duration = ctx.threshold(ID, "min_mos"), ctx.threshold(ID, "min_duration")
    flags = [bool(below_minimum(s.mos, s.grade, min_mos=min_mos)) for s in samples]
    # a sample describes the interval before it: a run starts one step before its first sample
    runs = flag_runs([s.t - step for s in samples], flags, step, min_duration)
    out = []
    zh_side, en_side = PARTY.get(role, (role, role))
    for a, b in runs:
        inside = [s for s in samples if a < s.t <= b + 1e-6]
        worst = min(
            inside, key=lambda s: (s.mos if s.mos is not None else 5.0, -"ABCDF".index(s.grade or "A"))
        )
        what = sorted({w for s in inside for w in below_minimum(s.mos, s.grade, min_mos=min_mos)})
        zh, en = _describe(worst)
        out.append(
            finding(
                ctx,
                ID,
                Severity.MAJOR,
                msg(
                    "finding.call_quality.below_minimum",
                    side=pair(zh_side, en_side),
                    what=pair("、".join(KIND[w][0] for w in what), " and ".join(KIND[w][1] for w in what)),
                    seconds=b - a,
                    worst=pair(zh, en),
                ),
                start=max(0.0, a),
                end=b,
            )
        )
    return out


def _silent_reporters(
    ctx: CheckContext, role: str, samples: Sequence[QualitySample], step: float
) -> list[Finding]:
    """Stretches of the call without reports from a party's browser (closed, crashed or offline)."""
    limit = max(3 * step, ctx.threshold(ID, "min_duration"))
    # from the party's first report (before it: the call being set up, two intervals at least)
    times = [*(s.t for s in samples), ctx.call_quality.duration if ctx.call_quality else 0.0]
    zh_side, en_side = PARTY.get(role, (role, role))
    out = []
    for a, b in itertools.pairwise(times):
        if b - a > limit:
            out.append(
                finding(
                    ctx,
                    ID,
                    Severity.MINOR,
                    msg("finding.call_quality.reports_missing", side=pair(zh_side, en_side), seconds=b - a),
                    start=a,
                    end=b,
                )
            )
    return out


def _server_mos(s: QualitySample) -> float:
    """The audio MOS estimate of what Janus received from a party in one interval."""
    return mos_estimate(loss_pct=s.loss_pct, jitter_ms=s.jitter_ms, rtt_ms=s.rtt_ms)


def _server_runs(ctx: CheckContext, party: str, rows: Sequence[QualitySample]) -> list[Finding]:
    """Stretches where the audio the server received from ``party`` was under the minimum."""
    min_mos, min_duration = ctx.threshold(ID, "min_mos"), ctx.threshold(ID, "min_duration")
    times = [s.t for s in rows]
    # the sampler's interval, from the rows themselves (a row describes the interval before it)
    steps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    step = steps[len(steps) // 2] if steps else 5.0
    flags = [_server_mos(s) <= min_mos for s in rows]
    zh_party, en_party = ("客户", "customer") if party == "customer" else ("坐席", "agent")
    out = []
    for a, b in flag_runs([t - step for t in times], flags, step, min_duration):
        inside = [s for s in rows if a < s.t <= b + 1e-6]
        worst = min(inside, key=_server_mos)
        out.append(
            finding(
                ctx,
                ID,
                Severity.MAJOR,
                msg(
                    "finding.call_quality.server_audio_below_minimum",
                    party=pair(zh_party, en_party),
                    seconds=b - a,
                    mos=_server_mos(worst),
                    loss=worst.loss_pct,
                    jitter=worst.jitter_ms,
                    rtt=worst.rtt_ms,
                ),
                start=max(0.0, a),
                end=b,
            )
        )
    return out


def _server_view(samples: Sequence[QualitySample]) -> dict[str, dict[str, float | int]]:
    """Janus' own view per party (rows ``janus-<party>``): what the server received of its streams
    — the recording's input — over the call: kbit/s (median), loss (worst interval), NACKs sent."""
    out: dict[str, dict[str, float | int]] = {}
    for party in ("customer", "agent"):
        rows = [s for s in samples if s.role == f"janus-{party}"]
        if not rows:
            continue
        kbps = sorted(s.audio_kbps + s.video_kbps for s in rows)
        out[party] = {
            "samples": len(rows),
            "kbps_median": round(kbps[len(kbps) // 2], 1),
            "audio_loss_max": max(s.loss_pct for s in rows),
            "video_loss_max": max(s.video_loss_pct for s in rows),
            "jitter_max": max(s.jitter_ms for s in rows),
            "nacks": sum(s.nacks for s in rows),
            "audio_mos_min": min(_server_mos(s) for s in rows),
        }
    return out


def run(ctx: CheckContext) -> CheckResult:
    q = ctx.call_quality
    if q is None:
        return not_run(ID, "不是远程视频通话 / not a remote-interview call")
    findings: list[Finding] = []
    for gap in q.gaps:
        zh_party = "客户" if gap.party == "customer" else "坐席"
        en_party = "customer" if gap.party == "customer" else "agent"
        findings.append(
            finding(
                ctx,
                ID,
                Severity.MAJOR,
                msg(
                    "finding.call_quality.recording_gap",
                    party=pair(zh_party, en_party),
                    kind=pair(*KIND[gap.kind]),
                    seconds=gap.end - gap.start,
                ),
                start=gap.start,
                end=gap.end,
            )
        )
    metrics: dict[str, object] = {}
    browsers = [r for r in q.parties if any(s.role == r for s in q.samples)]
    if not browsers:  # Janus' own rows (janus-<party>) are no browser's report
        findings.append(
            finding(ctx, ID, Severity.MINOR, msg("finding.call_quality.call_quality_reports_were_received"))
        )
    for role in q.parties:
        samples = sorted((s for s in q.samples if s.role == role), key=lambda s: s.t)
        if not samples:
            continue
        findings += _below_runs(ctx, role, samples, q.interval)
        findings += _silent_reporters(ctx, role, samples, q.interval)
        metrics[role] = summarise(samples)
    for party in ("customer", "agent"):
        rows = sorted((s for s in q.samples if s.role == f"janus-{party}"), key=lambda s: s.t)
        findings += _server_runs(ctx, party, rows)
    # the browsers' reports; Janus' own rows (janus-<party>) are summarised under "server"
    browser_samples = [s for s in q.samples if s.role in q.parties]
    step = max(1, -(-len(browser_samples) // MAX_SERIES))
    metrics["series"] = [
        {
            "t": s.t,
            "role": s.role,
            "mos": s.mos,
            "grade": s.grade,
            "w": s.width,
            "h": s.height,
            "fps": s.fps,
            "loss": s.loss_pct,
            "jitter": s.jitter_ms,
            "rtt": s.rtt_ms,
            "kbps": round(s.video_kbps + s.audio_kbps, 1),
        }
        for s in sorted(browser_samples, key=lambda s: (s.t, s.role))[::step]
    ]
    metrics["server"] = _server_view(q.samples)
    metrics["reporting"] = browsers
    metrics["gaps"] = len(q.gaps)
    metrics["min_mos"] = ctx.threshold(ID, "min_mos")
    findings.sort(key=lambda f: (f.start or 0.0, f.message))
    return result(ID, findings, metrics)


CHECK = FunctionCheck(ID, run, applies=lambda ctx: ctx.call_quality is not None)
