"""``dualrec evidence``: export a subject's evidence package, verify one offline, sign a checkpoint.

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
    from dualrec.bootstrap.evidence import evidence_signer
    from dualrec.errors import DualrecError
    from dualrec.services.evidence.package import export_package
    from dualrec.settings import load_settings

    settings = load_settings()
    try:
        signer = evidence_signer(settings)
        container = build_container(settings, with_jobs=False)
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    try:
        result = export_package(
            container.uows, container.blobs, signer, subject_type=subject_type, subject_id=subject_id, out=out
        )
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    finally:
        container.close()
    typer.echo(
        f"已导出 / exported {result.path} ({result.size} bytes): {result.files} files, "
        f"{result.events} ledger events, checkpoint seq {result.checkpoint_seq}, key {signer.key_id}"
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print failures only")] = False,
) -> None:
    from dualrec.services.evidence.verify import verify_package

    trusted = [p.read_text(encoding="utf-8") for p in public_key or []]
    report = verify_package(package, trusted_keys=trusted)
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
    from dualrec.bootstrap.evidence import evidence_signer
    from dualrec.errors import DualrecError
    from dualrec.services.evidence.ledger import checkpoint_if_due, make_checkpoint
    from dualrec.settings import load_settings

    settings = load_settings()
    try:
        signer = evidence_signer(settings)
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    container = build_container(settings, with_jobs=False)
    try:
        if if_due:
            cp = checkpoint_if_due(container.uows, signer, settings.evidence_checkpoint_every)
        else:
            cp = make_checkpoint(container.uows, signer)
    finally:
        container.close()
    if cp is None:
        typer.echo("无需新检查点 / no new checkpoint needed")
    else:
        typer.echo(
            f"checkpoint seq {cp.payload['seq']} root {cp.payload['merkle_root']} key {cp.payload['key_id']}"
        )


if __name__ == "__main__":
    app()
