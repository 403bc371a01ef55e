"""The self-service session's documents (pages shown with a watermark, read, signed) and the flow's
scripts as speech. The link token is the credential."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from dualrec.api.deps import ContainerDep
from dualrec.api.routers.sessions import MAX_IMAGE_BYTES, Token, read_limited, session_out
from dualrec.api.schemas.sessions import HelpIn, SessionOut
from dualrec.bootstrap.container import Container
from dualrec.services.sessions.documents import SessionDocuments

router = APIRouter(prefix="/session", tags=["session"])


def _docs(container: Container) -> SessionDocuments:
    assert container.session_docs is not None
    return container.session_docs


@router.get(
    "/{token}/documents/{index}/pages/{page}.jpg",
    summary="文件页面（带水印）/ a document page with the watermark",
    response_class=Response,
)
def document_page(
    token: Token,
    index: Annotated[int, Path(ge=0, le=100)],
    page: Annotated[int, Path(ge=0, le=10_000)],
    container: ContainerDep,
    width: Annotated[int, Query(ge=160, le=2400)] = 720,
) -> Response:
    data = _docs(container).page_image(token, index, page, width=width)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.post(
    "/{token}/documents/{index}/pages/{page}/read",
    response_model=SessionOut,
    summary="确认已阅读本页 / page read",
)
def page_read(
    token: Token,
    index: Annotated[int, Path(ge=0, le=100)],
    page: Annotated[int, Path(ge=0, le=10_000)],
    body: HelpIn,
    container: ContainerDep,
) -> SessionOut:
    return session_out(_docs(container).page_read(token, index, page, t=body.t))


@router.post(
    "/{token}/signature", response_model=SessionOut, summary="手写签名（PNG）/ handwritten signature"
)
async def signature(
    token: Token,
    request: Request,
    container: ContainerDep,
    document: Annotated[int | None, Query(ge=0, le=100)] = None,
    t: Annotated[float, Query(ge=0, le=24 * 3600)] = 0.0,
) -> SessionOut:
    from starlette.concurrency import run_in_threadpool

    data = await read_limited(request, MAX_IMAGE_BYTES)
    view = await run_in_threadpool(_docs(container).sign, token, document, data, t=t)
    return session_out(view)


@router.get(
    "/{token}/speech/{node_id}.wav",
    summary="话术语音（服务器合成）/ the node's script as speech",
    response_class=Response,
)
def speech_audio(
    token: Token, node_id: Annotated[str, Path(max_length=64)], container: ContainerDep
) -> Response:
    return Response(_docs(container).speech(token, node_id), media_type="audio/wav")
