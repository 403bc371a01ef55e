"""Serves the built Vue app (src/dualrec/web/dist) with index.html as the fallback route."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["DIST_DIR", "mount_spa"]

DIST_DIR = Path(__file__).resolve().parent.parent / "web" / "dist"

_MISSING = """<!doctype html><meta charset="utf-8"><title>dualrec</title>
<h1>前端尚未构建 / front end not built</h1><p>Run <code>make web</code> (or <code>make run</code>).</p>"""


def security_headers(connect_src: tuple[str, ...] = ()) -> dict[str, str]:
    """The page's headers. ``connect_src``: origins the pages may connect to besides 'self' (the
    app's own ws(s) origin, a media server) — never any ws:/wss: host."""
    connect = " ".join(("'self'", *connect_src))
    return {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        # 'wasm-unsafe-eval': the customer's page runs its face model on WebAssembly kernels served
        # from 'self' (no JavaScript eval is allowed by it)
        "Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; "
        f"style-src 'self' 'unsafe-inline'; connect-src {connect}; frame-ancestors 'none'",
    }


# The customer's page loads its face model from here (copied into the build by vite.config.ts; the
# package version is in the folder name, so a file never changes under its URL): public like the
# page itself, cached for a year. A file that is not in the build is a 404, never the page.
MODELS_PREFIX = "models/"
MODEL_CACHE = "public, max-age=31536000, immutable"


def mount_spa(app: FastAPI, dist: Path = DIST_DIR, *, connect_src: tuple[str, ...] = ()) -> None:
    page_headers = security_headers(connect_src)
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{full_path:path}", include_in_schema=False)
    def spa(full_path: str, request: Request) -> Response:
        if full_path.startswith(("api/", "metrics")):
            return Response(status_code=404)
        candidate = (dist / full_path).resolve()
        found = bool(full_path) and candidate.is_file() and candidate.is_relative_to(dist.resolve())
        if full_path.startswith(MODELS_PREFIX):
            if not found or not candidate.is_relative_to((dist / MODELS_PREFIX).resolve()):
                return Response(status_code=404, headers=page_headers)
            return FileResponse(candidate, headers={**page_headers, "Cache-Control": MODEL_CACHE})
        if found:
            return FileResponse(candidate, headers=page_headers)
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(_MISSING, status_code=503, headers=page_headers)
        return FileResponse(index, headers={**page_headers, "Cache-Control": "no-cache"})
