"""Media routes: audio and exports served with range support, never the database or secrets.

`/media/data/<path>` serves files under the data folder; `/media/project/<id>/<path>` serves files under a
project's own location (which may lie outside the data folder).
"""
from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import Response
from nicegui import app
from nicegui.app.range_response import get_range_response

from app.studio import Studio

PRIVATE = ('studio.db', '.storage_secret')


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
    root = root.resolve()
    path = (root / filename).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.name.startswith(PRIVATE) \
            or any(part.startswith('.') for part in path.relative_to(root).parts):
        raise HTTPException(status_code=404, detail='Not Found')
    return get_range_response(path, request, chunk_size=8192)
