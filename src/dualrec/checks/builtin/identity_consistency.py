"""Same person throughout: every stretch of the recording with a face on camera is the customer's
(or, in the two-person modes, the salesperson's). All the embeddings of the recording are grouped
into people (``checks.faces.cast``); each stretch where someone else is on camera while the customer
is not (a swap, a stand-in, a cut to another person) is a critical finding of its own, with its time
range and a frame where that face was embedded. Someone else *beside* the customer is people_count's
finding (an extra face)."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.faces import cast, faces_unusable
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.i18n import msg

ID = "identity_consistency"


def run(ctx: CheckContext) -> CheckResult:
    if (unusable := faces_unusable(ctx, ID)) is not None:
        return unusable
    who = cast(ctx)
    if who.customer is None:
        return not_run(ID, "可比对的人脸样本不足 / fewer than two face samples to compare")
    limit = ctx.threshold(ID, "max_distance")
    customer = who.people[who.customer]
    out: list[Finding] = []
    worst = 0.0
    for other in who.strangers:
        d = who.distance_to(other.label, customer.centroid)
        worst = max(worst, d)
        for a, b in who.runs(other.label, without_customer=True):
            seen = [t for t in other.times if a <= t < b] or [a]
            out.append(
                finding(
                    ctx,
                    ID,
                    Severity.CRITICAL,
                    msg(
                        "finding.identity_consistency.person_who_customer_camera_distance",
                        value=b - a,
                        d=d,
                        limit=limit,
                    ),
                    start=a,
                    end=b,
                    frame_time=seen[0],
                )
            )
    out.sort(key=lambda f: f.start or 0.0)
    metrics = {
        "samples": who.samples,
        "people": len(who.people),
        "strangers": len(who.strangers),
        "unconfirmed": who.unconfirmed,
        "customer_seen_s": round(customer.seen * who.step, 1),
        "max_distance": round(worst, 3),
        "threshold": limit,
    }
    return result(ID, out, metrics)


CHECK = FunctionCheck(ID, run)
