"""`/tensorboard/<id>/...` forwarded to the local TensorBoard child, so it sits behind the studio's guard and login.

The child listens on 127.0.0.1 under a secret path prefix (services/training/tensorboard.py); the secret never
leaves the studio: redirects and bodies that name it are rewritten to the public `/tensorboard/<id>/` path.
"""
from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from nicegui import app

from app.studio import Studio
from services import lazy
from services.training.tensorboard import PREFIX

httpx = lazy.module('httpx')  # only when TensorBoard is opened

HOP_BY_HOP = {'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization',
              'proxy-authenticate', 'content-length', 'content-encoding', 'host'}


def install(studio: Studio) -> None:
    clients = []  # one client, made when TensorBoard is first opened (httpx and its TLS context cost ~60 ms)

    def client():
        if not clients:
            clients.append(httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0)))
        return clients[0]

    async def close() -> None:
        for made in clients:
            await made.aclose()
    app.on_shutdown(studio.tensorboard.stop_all)
    app.on_shutdown(close)

    @app.api_route(PREFIX + '/{board}/{path:path}', methods=['GET', 'POST', 'HEAD'], include_in_schema=False)
    async def forward(request: Request, board: str, path: str) -> Response:
        live = studio.tensorboard.target(board)
        if live is None:
            return JSONResponse({'detail': 'This TensorBoard is not running: start it again from the studio.'},
                                status_code=404)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP | {'cookie'}}
        try:
            upstream = await client().request(request.method, live.upstream + path, params=request.query_params,
                                            headers=headers, content=await request.body())
        except httpx.HTTPError as e:
            return JSONResponse({'detail': f'TensorBoard did not answer ({type(e).__name__}); try again.'},
                                status_code=502)
        hidden, public = f'{PREFIX}/{board}/{live.secret}', f'{PREFIX}/{board}'
        out = {k: v.replace(hidden, public) for k, v in upstream.headers.items()
               if k.lower() not in HOP_BY_HOP | {'set-cookie'}}
        return Response(upstream.content.replace(live.secret.encode(), b''), status_code=upstream.status_code,
                        headers=out)
