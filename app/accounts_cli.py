"""`rave-studio users …`: the accounts of a shared studio from a terminal, for headless servers.

It works on the data folder's database directly, as the machine's user who owns that folder: whoever may read
the folder holds the studio anyway. Every change lands in the audit log as the user "command line".
"""
from __future__ import annotations

import argparse
import getpass
import os
import secrets
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from services.access import Actor
from services.lab import AccountError, Accounts, audit
from services.store import open_database

CLI = Actor('command line')  # a local actor: it may manage accounts


def main(argv: list[str], data_folder: Callable[[str | None], Path]) -> int:
    """Run one `users` command; `data_folder` turns --data-dir (or its absence) into the data folder."""
    args = _parser().parse_args(argv)
    open_database(data_folder(args.data_dir or os.environ.get('RAVE_STUDIO_DATA_DIR')) / 'studio.db')
    audit.install()  # every change lands in the audit log once it has happened
    accounts = Accounts(CLI)
    try:
        return _run(accounts, args)
    except AccountError as e:
        print(f'rave-studio users: {e}', file=sys.stderr)
        return 1


def _run(accounts: Accounts, args: argparse.Namespace) -> int:
    if args.command == 'list':
        for a in accounts.list():
            state = 'disabled' if a.disabled else 'invited' if a.invited else \
                'must change password' if a.must_change else 'active'
            print(f'{a.name:24} {"admin" if a.admin else "member":7} {state:22} since {a.created}')
        return 0
    if args.command == 'add':
        if args.invite:
            invitation = accounts.invite(args.name, admin=args.admin)
            print(f'Created {args.name}; send them this one-time link (good for 7 days):')
            print(invitation.link(args.url or f'http://{socket.gethostname()}:8765'))
            return 0
        password = _password(args)
        accounts.add(args.name, password, admin=args.admin)
        print(f'Created {args.name} with the initial password {password} (to be changed at the first sign-in).')
        return 0
    if args.command == 'reset':
        password = _password(args)
        accounts.reset(args.name, password)
        print(f'{args.name} signs in with {password} and then chooses their own; their sessions ended.')
        return 0
    if args.command == 'delete' and not args.yes:
        print(f'This removes the account {args.name} (their runs and datasets stay). Add --yes to do it.',
              file=sys.stderr)
        return 2
    getattr(accounts, args.command)(args.name)
    print(f'{args.name}: {_DONE[args.command]}.')
    return 0


_DONE = {'disable': 'disabled, their sessions ended', 'enable': 'enabled', 'promote': 'now an admin',
         'demote': 'now a member', 'delete': 'deleted'}


def _password(args: argparse.Namespace) -> str:
    password = args.password or os.environ.get('RAVE_STUDIO_PASSWORD', '')
    if not password and sys.stdin.isatty():
        password = getpass.getpass(f'Initial password for {args.name} (empty: make one up): ')
    return password or secrets.token_urlsafe(9)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='rave-studio users', description='Accounts of a shared studio.')
    parser.add_argument('--data-dir', help='the studio\'s data folder (as for rave-studio)')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('list', help='every account, its rank and state')
    add = commands.add_parser('add', help='a new account, with an invite link or an initial password')
    add.add_argument('name')
    add.add_argument('--admin', action='store_true', help='make it an admin')
    how = add.add_mutually_exclusive_group()
    how.add_argument('--invite', action='store_true', help='print a one-time sign-up link instead of a password')
    how.add_argument('--password', help='the initial password (else $RAVE_STUDIO_PASSWORD, asked, or made up)')
    add.add_argument('--url', help='the studio\'s address for the invite link, e.g. https://studio.lab:8765')
    reset = commands.add_parser('reset', help='a new initial password (their sessions end)')
    reset.add_argument('name')
    reset.add_argument('--password')
    for command, text in (('disable', 'may not sign in (their sessions end)'), ('enable', 'may sign in again'),
                          ('promote', 'make an admin'), ('demote', 'make a member')):
        commands.add_parser(command, help=text).add_argument('name')
    delete = commands.add_parser('delete', help='remove an account (their runs and datasets stay)')
    delete.add_argument('name')
    delete.add_argument('--yes', action='store_true', help='do it without asking')
    return parser
