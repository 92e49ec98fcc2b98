"""Media routes serve audio with range support and never the database or the storage secret."""
from pathlib import Path

import httpx
from nicegui import app
from nicegui.testing import User


async def test_media_serves_files_with_ranges_but_not_secrets(user: User, data_dir: Path) -> None:
    await user.open('/')
    project = app.studio.projects.current(None)
    wav = Path(project.location) / 'uploads' / 'a.wav'
    wav.write_bytes(b'RIFF' + bytes(range(200)))
    (data_dir / '.storage_secret').write_text('secret')
    assert (data_dir / 'studio.db').exists()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url='http://test') as client:
        rel = wav.relative_to(data_dir)
        full = await client.get(f'/media/data/{rel}')
        assert full.status_code == 200 and full.content == wav.read_bytes()
        part = await client.get(f'/media/data/{rel}', headers={'Range': 'bytes=4-9'})
        assert part.status_code == 206 and part.content == bytes(range(6))
        by_project = await client.get(f'/media/project/{project.id}/uploads/a.wav')
        assert by_project.content == wav.read_bytes()
        for private in ('studio.db', '.storage_secret', '../etc/passwd', 'projects/../studio.db'):
            assert (await client.get(f'/media/data/{private}')).status_code == 404, private
