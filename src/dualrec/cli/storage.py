"""``dualrec storage``: master keys for encryption at rest — make one, rotate, re-wrap blobs.

Rotation: ``rotate-key keys.json --id k2`` (k2 becomes active, k1 stays for reading), restart the
services, then ``rewrap --keys blob-keys.txt`` re-wraps each listed blob's data key under k2 (no
payload is re-encrypted). When every blob reports k2, k1 can be removed from the file.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "new_key", "rewrap", "rotate_key"]

app = typer.Typer(help="存储加密主密钥 / blob encryption master keys", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


@app.command("new-key", help="生成主密钥环 JSON / print a new master keyring (JSON) with one random key")
def new_key(key_id: Annotated[str, typer.Option("--id", help="key id")] = "k1") -> None:
    from dualrec.errors import DualrecError
    from dualrec.storage.keys import new_key_text

    try:
        typer.echo(new_key_text(key_id))
    except DualrecError as exc:
        raise _fail(exc.message) from exc


@app.command("rotate-key", help="新增并启用主密钥 / add a random key to a key file and make it active")
def rotate_key(
    key_file: Annotated[Path, typer.Argument(help="the DUALREC_MASTER_KEY_FILE to update")],
    key_id: Annotated[str, typer.Option("--id", help="id of the new key")],
) -> None:
    from dualrec.errors import DualrecError
    from dualrec.storage.keys import Keyring

    try:
        ring = Keyring.from_file(key_file)
        rotated = ring.with_new_active_key(key_id)
    except DualrecError as exc:
        raise _fail(exc.message) from exc
    tmp = key_file.with_name(f".{key_file.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(rotated.to_json())
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(key_file)
    typer.echo(f"主密钥已轮换 / active master key: {ring.active} → {key_id} (old keys kept for reading)")


@app.command("rewrap", help="用当前主密钥重新封装数据密钥 / re-wrap blobs' data keys under the active key")
def rewrap(
    keys: Annotated[Path, typer.Option("--keys", help="file with one blob key per line ('-': stdin)")],
) -> None:
    from dualrec.bootstrap.storage import build_encrypted_blob_store
    from dualrec.errors import DualrecError
    from dualrec.settings import load_settings

    try:
        store = build_encrypted_blob_store(load_settings())
        lines = sys.stdin.read() if str(keys) == "-" else keys.read_text(encoding="utf-8")
    except (DualrecError, OSError) as exc:
        raise _fail(getattr(exc, "message", None) or str(exc)) from exc
    changed = unchanged = failed = 0
    for blob_key in (line.strip() for line in lines.splitlines()):
        if not blob_key:
            continue
        try:
            if store.rewrap(blob_key):
                changed += 1
            else:
                unchanged += 1
        except DualrecError as exc:
            failed += 1
            typer.secho(f"FAIL {blob_key}: {exc.message} {exc.details}", fg=typer.colors.RED, err=True)
    typer.echo(f"re-wrapped {changed}, already on the active key {unchanged}, failed {failed}")
    if failed:
        raise typer.Exit(code=1)
