"""A comments card for one run, model, dataset or export: newest first, Markdown, @mentions, edit and delete
one's own; it follows `CommentsChanged`, so every viewer sees a new comment within a tick, and marks what its
viewer has seen."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components import cards
from services import formatting
from services.access import Forbidden
from services.events import CommentsChanged, Subscriber
from services.i18n import _, ngettext
from services.lab.comments import CommentError, Comments, CommentView

MARKDOWN = ('[&_ul]:list-disc [&_ul]:pl-5 [&_ol]:list-decimal [&_ol]:pl-5 [&_a]:text-[var(--q-primary)] '
            '[&_a]:underline [&_code]:font-mono [&_code]:bg-gray-100 dark:[&_code]:bg-gray-800 [&_code]:px-1 '
            '[&_blockquote]:border-l-2 [&_blockquote]:pl-2 [&_blockquote]:text-gray-500 [&_p]:my-1')


def comments_card(comments: Comments, events: Subscriber | None, kind: str, target: str | int) -> None:
    """The card; `kind` is run | model | dataset | export and `target` the object's id."""
    target = str(target)
    with cards.section(_('Comments'), 'forum', classes='mt-4').mark(f'comments-{kind}-{target}'):
        with ui.column().classes('w-full gap-1'):
            editor = ui.textarea(_('Comment'), placeholder=_('Markdown; @name mentions a member')) \
                .props('outlined autogrow dense').classes('w-full').mark('comment-editor')
            editor.props['hint'] = _('**bold**, *italic*, `code`, [links](https://…); HTML is shown as text.')
            with ui.row().classes('w-full justify-end'):
                ui.button(_('Post'), icon='send', on_click=lambda: post()).props('unelevated dense') \
                    .mark('comment-post')

        @ui.refreshable
        def thread() -> None:
            try:
                shown = comments.list(kind, target)
            except (CommentError, Forbidden) as e:
                ui.label(str(e)).classes('text-sm text-negative')
                return
            new = sum(c.unread for c in shown)
            if new:
                ui.label(ngettext('{count} new since you last looked', '{count} new since you last looked', new)
                         .format(count=new)).classes('text-xs text-primary').mark('comments-new')
            if not shown:
                ui.label(_('No comments yet: say what you hear, what to try next.')) \
                    .classes('text-sm italic text-gray-500').mark('comments-empty')
            for comment in shown:
                _comment(comments, comment, thread.refresh)
            comments.mark_read(kind, target)

        def post() -> None:
            try:
                comments.add(kind, target, editor.value or '')
            except (CommentError, Forbidden) as e:
                ui.notify(str(e), type='negative')
                return
            editor.set_value('')
            thread.refresh()

        def changed(event: CommentsChanged) -> None:
            if event.kind == kind and event.target == target:
                thread.refresh()
                if comments.actor.name in event.mentions and event.author != comments.actor.name:
                    ui.notify(_('{author} mentioned you in a comment.').format(author=event.author), type='info')

        thread()
        if events is not None:
            events.on(CommentsChanged, changed)


def _comment(comments: Comments, comment: CommentView, changed) -> None:
    ring = ' border-l-4 border-[var(--q-primary)] pl-2' if comment.unread else ''
    with ui.column().classes('w-full gap-0 py-1' + ring).mark(f'comment-{comment.id}'):
        with ui.row().classes('w-full items-center gap-2'):
            ui.icon('account_circle').classes('text-gray-400')
            ui.label(comment.author).classes('text-sm font-medium')
            stamp = formatting.moment(comment.created) + (' · ' + _('edited') if comment.edited else '')
            ui.label(stamp).classes(theme.HINT + ' grow')
            if comment.mine:
                ui.button(icon='edit', on_click=lambda: _edit(comments, comment, changed)) \
                    .props('flat round dense size=sm').tooltip(_('Edit')).mark(f'comment-edit-{comment.id}')

                async def delete() -> None:
                    if await cards.confirm(_('Delete this comment?'), comment.body[:200], yes=_('Delete'),
                                           mark='comment-delete'):
                        try:
                            comments.delete(comment.id)
                        except (CommentError, Forbidden) as e:
                            ui.notify(str(e), type='negative')
                        changed()

                ui.button(icon='delete_outline', on_click=delete).props('flat round dense size=sm color=negative') \
                    .tooltip(_('Delete')).mark(f'comment-delete-{comment.id}')
        ui.html(comment.html, sanitize=False).classes('text-sm studio-comment w-full break-words ' + MARKDOWN) \
            .mark(f'comment-body-{comment.id}')  # sanitized by services/lab/markup.py


def _edit(comments: Comments, comment: CommentView, changed) -> None:
    with ui.dialog() as dialog, ui.card().classes('w-[560px] max-w-[95vw]').mark('comment-edit-dialog'):
        text = ui.textarea(_('Comment'), value=comment.body).props('outlined autogrow').classes('w-full') \
            .mark('comment-edit-text')

        def save() -> None:
            try:
                comments.edit(comment.id, text.value or '')
            except (CommentError, Forbidden) as e:
                ui.notify(str(e), type='negative')
                return
            dialog.close()
            changed()

        with ui.row().classes('w-full justify-end'):
            ui.button(_('Cancel'), on_click=dialog.close).props('flat')
            ui.button(_('Save'), on_click=save).props('unelevated').mark('comment-edit-save')
    dialog.open()
