"""``dualrec evidence``: export a subject's evidence package, verify one offline, sign a checkpoint,
audit the ledger and the audit log against the outside checkpoint log.

``verify`` needs nothing but the package: ``python -m dualrec.cli.evidence verify PKG.zip``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(
    help="存证包导出与离线校验 / evidence packages: export and offline verification", no_args_is_help=True
)


@app.command("export", help="导出存证包 / export the self-contained evidence package of a recording")
def export(
    subject_id: Annotated[str, typer.Argument(help="recording id (or task id with --type task)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="the ZIP file to write")],
    subject_type: Annotated[str, typer.Option("--type", help="subject type")] = "recording",
) -> None:
    from dualrec.bootstrap.container import build_container
    from dualrec.bootstrap.evidence import evidence_notary
    from dualrec.errors import DualrecError
    from dualrec.services.evidence.package import export_package
    from dualrec.settings import load_settings

    settings = load_settings()
    try:
        notary = evidence_notary(settings)
        container = build_container(settings, with_jobs=False)
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    try:
        result = export_package(
            container.uows, container.blobs, notary, subject_type=subject_type, subject_id=subject_id, out=out
        )
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    finally:
        container.close()
    typer.echo(
        f"已导出 / exported {result.path} ({result.size} bytes): {result.files} files, "
        f"{result.events} ledger events, checkpoint seq {result.checkpoint_seq}, key {notary.signer.key_id}"
    )


@app.command(
    "verify", help="离线校验存证包 / verify an evidence package offline (exit 0 only if all checks pass)"
)
def verify(
    package: Annotated[Path, typer.Argument(help="the evidence package ZIP")],
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key", help="the institution's published public key(s) (PEM); repeat for rotated keys"
        ),
    ] = None,
    checkpoint_log: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint-log",
            help="a folder with the outside checkpoint log (checkpoint-*.json): the package's checkpoints "
            "must be in it, unchanged",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    server_log: Annotated[
        bool,
        typer.Option("--server-log", help="compare with the checkpoint log configured for this server"),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print failures only")] = False,
) -> None:
    import tempfile

    from dualrec.services.evidence.verify import verify_package

    trusted = [p.read_text(encoding="utf-8") for p in public_key or []]
    with tempfile.TemporaryDirectory(prefix="checkpoint-log-") as tmp:
        if server_log and checkpoint_log is None:
            checkpoint_log = _copy_server_log(Path(tmp))
        report = verify_package(package, trusted_keys=trusted, checkpoint_log=checkpoint_log)
    for f in report.findings:
        if f.ok and quiet:
            continue
        mark = "OK  " if f.ok else "FAIL"
        typer.echo(f"{mark} [{f.check}] {f.detail}")
    if report.ok:
        if not trusted:
            typer.echo(
                "注意：未用 --public-key 核对机构公钥 / note: the signing keys were not compared with the "
                "institution's published key (--public-key)"
            )
        if checkpoint_log is None:
            typer.echo(
                "注意：未与外部检查点日志比对 / note: the checkpoints were not compared with the outside "
                "checkpoint log (--checkpoint-log DIR or --server-log)"
            )
        typer.secho(f"通过 / PASSED: all {len(report.findings)} checks", fg=typer.colors.GREEN)
        return
    typer.secho(
        f"失败 / FAILED: {len(report.problems)} of {len(report.findings)} checks failed",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(code=1)


@app.command("checkpoint", help="立即签署检查点 / sign a checkpoint of the ledger now (e.g. from cron)")
def checkpoint(
    if_due: Annotated[
        bool, typer.Option("--if-due", help="only when DUALREC_EVIDENCE_CHECKPOINT_EVERY events were added")
    ] = False,
) -> None:
    from dualrec.bootstrap.container import build_container
    from dualrec.bootstrap.evidence import evidence_notary
    from dualrec.errors import DualrecError
    from dualrec.services.evidence.ledger import checkpoint_if_due, make_checkpoint
    from dualrec.settings import load_settings

    settings = load_settings()
    try:
        notary = evidence_notary(settings)
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    container = build_container(settings, with_jobs=False)
    try:
        if if_due:
            cp = checkpoint_if_due(container.uows, notary, settings.evidence_checkpoint_every)
        else:
            cp = make_checkpoint(container.uows, notary)
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    finally:
        container.close()
    if cp is None:
        typer.echo("无需新检查点 / no new checkpoint needed")
    else:
        typer.echo(
            f"checkpoint seq {cp.payload['seq']} root {cp.payload['merkle_root']} "
            f"key {cp.payload['key_id']} (checkpoint number {cp.number})"
        )


@app.command(
    "audit",
    help="完整性审计 / re-verify the whole ledger and audit log against their heads and the outside "
    "checkpoint log (exit 1 and an alert when anything is wrong)",
)
def audit(
    full: Annotated[
        bool, typer.Option("--full", help="verify every checkpoint signature (default: since the last audit)")
    ] = False,
) -> None:
    from dualrec.bootstrap.container import build_container
    from dualrec.bootstrap.evidence import evidence_notary
    from dualrec.errors import DualrecError
    from dualrec.services.evidence.integrity import run_audit
    from dualrec.settings import load_settings

    settings = load_settings()
    try:
        notary = evidence_notary(settings)
        container = build_container(settings, with_jobs=False)
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    try:
        result = run_audit(container.uows, notary, trigger="cli", full=full)
    finally:
        container.close()
    log = (
        f"{result.log_entries} in {result.log_location}"
        if result.log_entries is not None
        else "none configured"
    )
    typer.echo(
        f"{result.events} ledger events, {result.checkpoints} checkpoints, {result.audit_rows} audit rows, "
        f"outside log: {log} ({result.seconds:.1f} s)"
    )
    for note in result.notes:
        typer.echo(f"note: {note}")
    for problem in result.problems:
        typer.echo(f"FAIL {problem}")
    if result.problem_count > len(result.problems):
        typer.echo(f"… and {result.problem_count - len(result.problems)} more")
    if result.ok:
        signed = f"; audited checkpoint {result.checkpoint} signed" if result.checkpoint else ""
        typer.secho(f"完整 / CLEAN: nothing altered, deleted or missing{signed}", fg=typer.colors.GREEN)
        return
    typer.secho(
        f"发现问题 / TAMPERING OR DAMAGE: {result.problem_count} problems (alert recorded)",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(code=1)


def _copy_server_log(folder: Path) -> Path:
    """The configured outside checkpoint log, copied to ``folder`` (a filesystem log is read in place)."""
    from dualrec.bootstrap.evidence import checkpoint_log
    from dualrec.settings import load_settings
    from dualrec.storage.filesystem import FilesystemAppendLog

    log = checkpoint_log(load_settings())
    if log is None:
        typer.secho("error: no checkpoint log is configured", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    if isinstance(log, FilesystemAppendLog):
        return Path(log.location)
    for name in log.names():
        data = log.read(name)
        if data is not None:
            (folder / name).write_bytes(data)
    return folder


if __name__ == "__main__":
    app()
