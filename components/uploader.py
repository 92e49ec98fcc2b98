"""Uploading audio into a project: files, whole folders (picked or dropped, sub-folders kept) and .zip archives
of a folder, all written under `<project>/uploads/<name>/` through the datasets facade, which checks each upload's
name and size and stops writing one that grows past the limit."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from nicegui import events, run, ui

from app import theme
from services.datasets import DatasetError, Datasets, UploadRefused
from services.i18n import _

SETTLE_S = 0.8  # a folder arrives as one request per file: report (and re-survey) once they stop coming
ACCEPT = 'audio/*,.wav,.aif,.aiff,.flac,.mp3,.ogg,.opus,.aac,.m4a,.zip'


def upload_panel(datasets: Datasets, project_id: int, on_uploaded: Callable[[Path], Awaitable[None]]) -> ui.upload:
    """The upload controls; `await on_uploaded(folder)` once a batch of files has landed in `folder`."""
    uploads = datasets.uploads(project_id)
    batch = ui.input(_('Upload into'), value=time.strftime('upload-%Y%m%d-%H%M')) \
        .props('outlined dense').classes('w-full').mark('upload-folder')
    limit = datasets.upload_limit_mb()
    per_file = _('Up to {size} MB per file; a .zip up to {size} MB unpacked.').format(size=limit) if limit else ''
    ui.label(_('Drop audio files, whole folders or a .zip of a folder. They go to {folder}/<this name> (sub-folders '
               'kept), which becomes an input folder. {limit}').format(folder=uploads, limit=per_file)) \
        .classes(theme.HINT + ' break-words')
    upload = ui.upload(multiple=True, auto_upload=True, label=_('Drop audio files or folders here')) \
        .props(f'flat bordered color=transparent text-color=primary accept="{ACCEPT}"') \
        .classes('w-full studio-folder-drop').mark('upload')
    upload.tooltip(_('Audio files or whole folders, copied into this project\'s uploads under the name above'))
    with ui.row().classes('w-full items-center gap-2'):
        picker = ui.element('input').props('type=file webkitdirectory multiple data-testid=folder-input') \
            .classes('hidden').mark('folder-input')
        picker.on('change', js_handler=f'(e) => window.studioFolders.picked(e.target, {upload.id})')
        ui.button(_('Upload a folder'), icon='drive_folder_upload') \
            .on('click', js_handler=f'() => getHtmlElement({picker.id}).click()') \
            .props('flat dense no-caps color=primary').mark('upload-folder-button')
        ui.label(_('Picks every audio file inside, keeping sub-folders.')).classes(theme.HINT)
    _install_script()

    got = {'files': 0, 'names': [], 'skipped': 0, 'folder': None, 'round': 0}

    async def _receive(e: events.UploadEventArguments) -> None:
        folder = batch.value or 'upload'
        try:
            sink = datasets.receive(project_id, folder, e.file.name, e.file.size())
            target = await sink.receive(e.file.iterate())
            if e.file.name.lower().endswith('.zip'):
                unpacked = await run.io_bound(datasets.unpack, project_id, folder, sink)
                if not unpacked.written:
                    ui.notify(_('{file} holds no audio files ({count} entries skipped).').format(file=e.file.name,
                                                                                        count=len(unpacked.skipped)),
                              type='warning', multi_line=True)
                    return
                got['files'] += len(unpacked.written)
                got['skipped'] += len(unpacked.skipped)
                got['names'].append(e.file.name)
            else:
                got['files'] += 1
                got['names'].append(target.name)
        except (DatasetError, UploadRefused, OSError) as error:
            ui.notify(str(error), type='negative', multi_line=True)
            return
        got['folder'] = datasets.upload_folder(project_id, folder)
        got['round'] += 1
        this_round = got['round']
        await asyncio.sleep(SETTLE_S)
        if this_round != got['round']:
            return  # more files arrived: the last one reports
        count, names, skipped, landed = got['files'], got['names'], got['skipped'], got['folder']
        got.update(files=0, names=[], skipped=0)
        if len(names) == 1 and count == 1:
            what = _('Uploaded {file} into {folder}').format(file=names[0], folder=landed.name)
        elif len(names) == 1:
            what = _('Uploaded {count} audio files from {file} into {folder}').format(count=count, file=names[0],
                                                                                     folder=landed.name)
        else:
            what = _('Uploaded {count} audio files into {folder}').format(count=count, folder=landed.name)
        ui.notify(what + (_('; {count} entries skipped.').format(count=skipped) if skipped else '.'), type='positive')
        await on_uploaded(landed)

    upload.on_upload(_receive)
    return upload


def _install_script() -> None:
    """Defines window.studioFolders once per page: it turns a picked or dropped folder into files named with
    their path inside it (parts joined by "⁄", see services.files.FOLDER_SEP) and queues the audio ones."""
    script = _SCRIPT.strip()
    if ui.context.client.has_socket_connection:
        ui.run_javascript(script)
    else:
        ui.add_body_html(f'<script>{script}</script>')


_SCRIPT = r'''
if (!window.studioFolders) window.studioFolders = (() => {
  document.head.insertAdjacentHTML('beforeend',  // the byte counter under the label says nothing useful here
    '<style>.studio-folder-drop .q-uploader__subtitle { display: none; }</style>');
  const SEP = '\u2044';
  const AUDIO = /\.(wav|aif|aiff|flac|mp3|ogg|opus|aac|m4a)$/i;
  const usable = (path) => AUDIO.test(path) && !/(^|\/)\./.test(path);
  const named = (file, path) => new File([file], path.split('/').filter(Boolean).join(SEP),
                                         {type: file.type, lastModified: file.lastModified});
  const queue = (files, id) => { if (files.length) getElement(id).$refs.qRef.addFiles(files); };
  async function walk(entry, out, depth) {
    if (depth > 32 || out.length > 20000) return;
    if (entry.isFile) {
      if (!usable(entry.fullPath)) return;
      try { out.push(named(await new Promise((ok, ko) => entry.file(ok, ko)), entry.fullPath)); } catch (e) {}
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, ko) => reader.readEntries(ok, ko)).catch(() => []);
        if (!batch.length) break;
        for (const child of batch) await walk(child, out, depth + 1);
      }
    }
  }
  document.addEventListener('drop', (e) => {
    const zone = e.target.closest && e.target.closest('.studio-folder-drop');
    if (!zone || !e.dataTransfer) return;
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (!entries.some((x) => x.isDirectory)) return;  // plain files: the uploader takes them itself
    e.preventDefault(); e.stopPropagation();
    zone.querySelectorAll('.q-uploader__dnd')
      .forEach((d) => d.dispatchEvent(new DragEvent('dragleave', {bubbles: true})));
    const out = [];
    Promise.all(entries.map((x) => walk(x, out, 0))).then(() => queue(out, zone.id.slice(1)));
  }, true);
  return {
    picked(input, id) {
      const files = [...input.files].filter((f) => usable(f.webkitRelativePath || f.name))
        .map((f) => named(f, f.webkitRelativePath || f.name));
      input.value = '';
      queue(files, id);
    },
  };
})();
'''
