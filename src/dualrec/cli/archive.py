"""``dualrec archive``: entries whose retention ends soon (and the daily notice, for cron)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(help="档案 / the archive catalogue", no_args_is_help=True)


@app.command("expiring", help="列出 N 天内到期的档案 / list entries whose retention ends within N days")
def expiring(
    days: Annotated[int, typer.Option("--days", min=0, max=3650, help="天数 / days ahead")] = 30,
    notify: Annotated[
        bool,
        typer.Option("--notify", help="同时生成今日提醒（每天一次）/ also make today's notices (once a day)"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """No personal data is printed: ids, branch, business type/number, retention code and date."""
    from dualrec.bootstrap.container import build_container
    from dualrec.settings import load_settings

    container = build_container(load_settings(), with_jobs=False)
    try:
        retention = container.archive.retention
        if notify:
            run = retention.notify_expiring(days=days)
            entries, added = run.entries, run.notices_added
        else:
            entries, added = retention.expiring(days=days), 0
    finally:
        container.close()
    for e in entries:
        row = {
            "recording_id": e.recording_id,
            "branch": e.branch_name,
            "business_type": e.business_type,
            "business_no": e.business_no,
            "retention_code": e.retention_code,
            "expires_on": e.expires_on.isoformat() if e.expires_on else None,
            "legal_hold": e.legal_hold,
        }
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            hold = "  [诉讼保全 / legal hold]" if e.legal_hold else ""
            typer.echo(
                f"{row['expires_on']}  {e.recording_id}  {e.branch_name}  {e.business_type}  "
                f"{e.business_no}  {e.retention_code}{hold}"
            )
    typer.echo(
        f"{len(entries)} 条档案在 {days} 天内到期 / entries expiring within {days} days"
        + (f"; 新提醒 / new notices: {added}" if notify else ""),
        err=True,
    )


@app.command(
    "retry-deletions",
    help="重试删除已批准删除但未删成的文件 / delete again the files an approved deletion could not remove",
)
def retry_deletions(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False) -> None:
    """For cron or by hand after a storage outage; exits 1 while some files are still there."""
    from dualrec.bootstrap.container import build_container
    from dualrec.settings import load_settings

    container = build_container(load_settings(), with_jobs=False)
    try:
        runs = container.archive.deletions.retry_undeleted()
    finally:
        container.close()
    for r in runs:
        if as_json:
            row = {"request_id": r.request_id, "recording_id": r.recording_id, "deleted": r.deleted}
            typer.echo(json.dumps({**row, "left": list(r.left)}, ensure_ascii=False))
        else:
            typer.echo(f"{r.request_id}  {r.recording_id}  deleted {r.deleted}  left {len(r.left)}")
    left = sum(len(r.left) for r in runs)
    typer.echo(
        f"{len(runs)} 个删除申请有遗留文件, 仍未删除 {left} 个 / "
        f"{len(runs)} deletions had leftover files; {left} still not deleted",
        err=True,
    )
    if left:
        raise typer.Exit(1)
