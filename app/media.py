"""Media routes: audio and exports served with range support, never the database, secrets or dot-files.

`/media/data/<path>` serves files under the data folder; `/media/project/<id>/<path>` serves files under a
project's own location (which may lie outside the data folder). What may be served is the file policy's
(`FilePolicy.servable`). Uploads come from users, so a response can never act as a page of the studio: no
content sniffing, a sandboxing CSP, and anything but audio is a download (an uploaded .html or .svg opened from
the studio's origin would otherwise run as the studio).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import Response
from nicegui import app
from nicegui.app.range_response import get_range_response

from app.security import MEDIA_CSP
from app.studio import Studio
from services.files import FilePolicy, is_audio


def install(studio: Studio) -> None:
    @app.get('/media/data/{filename:path}')
    def data_file(request: Request, filename: str) -> Response:
        return _serve(request, studio.data_dir, filename)

    @app.get('/media/project/{project_id}/{filename:path}')
    def project_file(request: Request, project_id: int, filename: str) -> Response:
        project = studio.projects.get(project_id)
        if project is None:
            raise HTTPException(status_code=404, detail='Not Found')
        return _serve(request, Path(project.location), filename)


def _serve(request: Request, root: Path, filename: str) -> Response:
    path = FilePolicy.servable(root, filename)
    if path is None:
        raise HTTPException(status_code=404, detail='Not Found')
    response = get_range_response(path, request, chunk_size=8192)
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['Content-Security-Policy'] = MEDIA_CSP
    if not is_audio(path):
        response.headers['Content-Disposition'] = f"attachment; filename*=UTF-8''{quote(path.name)}"
    return response
