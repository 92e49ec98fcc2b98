"""Custom gin configs and run templates, stored in the project: <project>/configs/<name>.gin + index.json.

A custom config is new or derived from a shipped one; it is checked by the gin worker before it is saved.
Gin configs can import and call Python: this engine is reached only through the `Training` facade, which
asks for the right to edit code (admins on a shared studio) and for the user's "this runs Python"
confirmation. A template is a named set of run choices (a RunSpec without its name).
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from services.i18n import _
from services.projects import ProjectService
from services.store import Project, now
from services.training import configs
from services.training.views import ConfigEntry

NAME = re.compile(r'[A-Za-z][A-Za-z0-9_-]{0,63}')


class TemplateError(ValueError):
    """A custom config or template that cannot be saved, with a message for the user."""


class TemplateService:
    def __init__(self, projects: ProjectService, python: callable) -> None:
        self.projects = projects
        self._python = python  # the interpreter that runs RAVE (a setting; read at each check)

    # ---- custom configs --------------------------------------------------------------------------
    def configs(self, project: Project) -> list[dict]:
        """The project's custom configs: name, role (base/addon), description, derived_from, path, created."""
        index = self._index(project)
        folder = self.folder(project)
        return [{**entry, 'name': name, 'path': str(folder / f'{name}.gin')}
                for name, entry in sorted(index['configs'].items()) if (folder / f'{name}.gin').exists()]

    def config(self, project: Project, name: str) -> dict | None:
        return next((c for c in self.configs(project) if c['name'] == name), None)

    def entries(self, project: Project) -> dict[str, ConfigEntry]:
        """The project's custom configs by name, as views."""
        return {c['name']: ConfigEntry.of(c) for c in self.configs(project)}

    def paths(self, project: Project) -> dict[str, str]:
        """The .gin file of each custom config, by name (what `rave train --config` is given)."""
        return {c['name']: c['path'] for c in self.configs(project)}

    def validate_config(self, project: Project, text: str, role: str = 'base', channels: int = 1) -> dict:
        """Parse the text with gin in the worker (an add-on on top of v2_small); blocking, call it off the
        loop."""
        with tempfile.TemporaryDirectory(prefix='gin-') as tmp:
            path = Path(tmp) / 'custom.gin'
            path.write_text(text)
            stack = [configs.HOST_BASE, str(path)] if role == 'addon' else [str(path)]
            answer = configs.check(self._python(), [{'configs': stack, 'channels': channels}])[0]
        error = answer.get('error') or {}
        if error.get('file') and error['file'].endswith('custom.gin'):
            answer['error']['file'] = 'your config'
        return answer

    def save_config(self, project: Project, name: str, text: str, description: str = '', role: str = 'base',
                    derived_from: str = '', replace: bool = False) -> dict:
        """Check the config with gin, then store it; raises TemplateError with gin's message and line."""
        name = name.strip()
        if not NAME.fullmatch(name):
            raise TemplateError(_('Name the config with letters, digits, "_" or "-", starting with a letter.'))
        if configs.find(name):
            raise TemplateError(_('"{name}" is a config shipped with RAVE: choose another name.').format(name=name))
        index = self._index(project)
        if name in index['configs'] and not replace:
            raise TemplateError(_('A custom config "{name}" exists already: choose another name or edit it.')
                                .format(name=name))
        if role not in ('base', 'addon'):
            raise TemplateError(_('A custom config is either a base or an add-on.'))
        answer = self.validate_config(project, text, role)
        if not answer['ok']:
            raise TemplateError(_('Not saved, {reason}.').format(reason=configs.reason(answer)))
        (self.folder(project) / f'{name}.gin').write_text(text)
        index['configs'][name] = {'role': role, 'description': description.strip(),
                                  'derived_from': derived_from,
                                  'created': index['configs'].get(name, {}).get('created') or _stamp(),
                                  'modified': _stamp(), 'compression': answer.get('compression'),
                                  'macros': answer.get('macros')}
        self._write(project, index)
        return self.config(project, name)

    def delete_config(self, project: Project, name: str) -> None:
        index = self._index(project)
        index['configs'].pop(name, None)
        (self.folder(project) / f'{name}.gin').unlink(missing_ok=True)
        self._write(project, index)

    def derive(self, base: str) -> str:
        """A starting text for a config derived from a shipped one: it includes it, then re-binds its
        macros."""
        info = configs.find(base)
        if info is None:
            raise TemplateError(_('Unknown shipped config "{config}".').format(config=base))
        rel = Path(info.path).relative_to(Path(info.path).parents[1 if info.kind != 'augmentation' else 2])
        lines = ['from __gin__ import dynamic_registration', '', 'import rave', '',
                 f'include "{rel.as_posix()}"', '',
                 f'# Derived from {base}: change the values below, or add bindings such as',
                 '#   rave.RAVE.update_discriminator_every = 4']
        lines += [f'{k} = {v}' for k, v in info.values.items() if k.isupper()]
        return '\n'.join(lines) + '\n'

    # ---- templates -------------------------------------------------------------------------------
    def templates(self, project: Project) -> list[dict]:
        return [{**entry, 'name': name} for name, entry in sorted(self._index(project)['templates'].items())]

    def template(self, project: Project, name: str) -> dict | None:
        return next((t for t in self.templates(project) if t['name'] == name), None)

    def save_template(self, project: Project, name: str, choices: dict, description: str = '',
                      replace: bool = False) -> dict:
        name = name.strip()
        if not name:
            raise TemplateError(_('Give the template a name.'))
        index = self._index(project)
        if name in index['templates'] and not replace:
            raise TemplateError(_('A template "{name}" exists already: choose another name.').format(name=name))
        index['templates'][name] = {'description': description.strip(), 'choices': choices,
                                    'created': _stamp()}
        self._write(project, index)
        return self.template(project, name)

    # ---- storage ---------------------------------------------------------------------------------
    def folder(self, project: Project) -> Path:
        return self.projects.folder(project, 'configs')

    def _index(self, project: Project) -> dict:
        try:
            data = json.loads((self.folder(project) / 'index.json').read_text())
        except (OSError, ValueError):
            data = {}
        return {'configs': data.get('configs', {}), 'templates': data.get('templates', {})}

    def _write(self, project: Project, index: dict) -> None:
        path = self.folder(project) / 'index.json'
        tmp = path.with_suffix('.tmp')
        tmp.write_text(json.dumps(index, indent=1))
        tmp.replace(path)


def _stamp() -> str:
    return now().isoformat(timespec='seconds')
