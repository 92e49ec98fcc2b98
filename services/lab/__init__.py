"""The lab: many people on one studio — accounts, roles per project, comments, the audit log, version history,
the team view. `install` makes the sharing model the authorisation rule and starts the audit log."""
from __future__ import annotations

from collections.abc import Callable

from services.lab import audit, roles
from services.lab.accounts import AccountError, Accounts, AccountView, Invitation
from services.lab.audit import AuditLog, AuditView
from services.lab.roles import VISIBILITY, Watch
from services.lab.sharing import MemberView, ProjectSharing, SharingError, SharingView

__all__ = ['VISIBILITY', 'AccountError', 'AccountView', 'Accounts', 'AuditLog', 'AuditView', 'Invitation',
           'MemberView', 'ProjectSharing', 'SharingError', 'SharingView', 'Watch', 'install']


def install(default_visibility: Callable[[], str]) -> None:
    roles.install(default_visibility)
    audit.install()
