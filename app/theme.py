"""Design tokens: the one place for colours, status meanings, spacing and chart styling.

A leaf module (from the project, only the translation marker) so pages and components may read it. Its words are
English msgids: the pages show them through `_()`.
"""
from services.i18n import N_

ACCENT = '#6C5CE7'  # the one accent colour
COLORS = {
    'primary': ACCENT,
    'secondary': '#4B5563',
    'accent': '#00B894',
    'positive': '#047857',  # status colours carry white text: each at 4.5:1 or more (WCAG AA)
    'negative': '#B91C1C',
    'warning': '#B45309',
    'info': '#2563EB',
    'dark': '#111318',
    'dark-page': '#0B0C10',
}

# high contrast: black on white, every brand colour at 7:1 or more against white (WCAG AAA for text), so white
# text on a coloured button or chip reads as well as the colour on the page
CONTRAST_COLORS = {
    'primary': '#3B1F99',
    'secondary': '#111827',
    'accent': '#004D40',
    'positive': '#1B5E20',
    'negative': '#8E1212',
    'warning': '#5B4B00',
    'info': '#0D47A1',
    'dark': '#000000',
    'dark-page': '#000000',
}
THEMES = {'light': N_('Light'), 'dark': N_('Dark'), 'contrast': N_('High contrast'), 'auto': N_('Follow the system')}
FONT_SCALES = (100, 125, 150, 175, 200)  # percent of the normal text size

# status chips have fixed meanings everywhere: (Quasar colour, icon)
STATUS = {
    N_('queued'): ('grey-7', 'schedule'),
    N_('running'): ('primary', 'play_circle'),
    N_('paused'): ('warning', 'pause_circle'),
    N_('done'): ('positive', 'check_circle'),
    N_('ready'): ('positive', 'check_circle'),
    N_('failed'): ('negative', 'error'),
    N_('interrupted'): ('deep-orange-10', 'report'),
    N_('cancelled'): ('grey-8', 'cancel'),
    N_('building'): ('primary', 'construction'),
    N_('imported'): ('secondary', 'drive_folder_upload'),
}
# what a status means where its word alone does not say it (the chip's tooltip)
STATUS_HINT = {
    'imported': N_('Trained by the plain RAVE command line and imported: its curves come from its TensorBoard '
                   'events; it can be resumed and exported like a run of the studio.'),
}

# coloured text on the dark page (#111318) at 4.5:1 or more: the brand colours are for white text on them
DARK_TEXT = {'primary': '#A29BFE', 'negative': '#F87171', 'positive': '#34D399', 'warning': '#FBBF24'}

CARD = 'w-full rounded-xl shadow-sm border border-gray-200 dark:border-gray-800 p-4'
PAGE = 'w-full max-w-screen-2xl mx-auto p-4 md:p-6 gap-4'
TITLE = 'text-2xl font-semibold tracking-tight'
SUBTITLE = 'text-sm text-gray-500 dark:text-gray-400'
SECTION = 'text-base font-semibold'
HINT = 'text-xs text-gray-500 dark:text-gray-400'
NUMBER = 'tabular-nums text-right'
MONO = 'font-mono text-xs'

CHART_LAYOUT = {
    'margin': {'l': 48, 'r': 16, 't': 28, 'b': 36},
    'paper_bgcolor': 'rgba(0,0,0,0)',
    'plot_bgcolor': 'rgba(0,0,0,0)',
    'font': {'size': 11, 'color': '#8A8F98'},
    'xaxis': {'gridcolor': 'rgba(128,128,128,0.15)', 'zeroline': False},
    'yaxis': {'gridcolor': 'rgba(128,128,128,0.15)', 'zeroline': False},
    'legend': {'orientation': 'h', 'y': 1.12},
    'colorway': [ACCENT, '#00B894', '#F59E0B', '#EF4444', '#3B82F6', '#E84393', '#636E72'],
}

CSS = f"""
.studio-console .q-scrollarea__content {{ white-space: pre-wrap; word-break: break-all; }}
@layer theme {{  /* Quasar's buttons say no-outline !important: an important rule of the first layer outranks it */
  html :focus-visible:not(input):not(textarea):not([tabindex="-1"]) {{
    outline: 2px solid {ACCENT} !important; outline-offset: 2px; }}
}}
kbd {{ font: 600 11px/1.6 ui-monospace, monospace; padding: 0 6px; border-radius: 4px; border: 1px solid #9CA3AF;
      border-bottom-width: 2px; white-space: nowrap; }}
/* text at 4.5:1 or more (WCAG AA) where Quasar's, Tailwind's or Pygments' own colours fall short */
.nicegui-link {{ color: var(--q-primary); }}
.q-stepper__tab:not(.q-stepper__tab--active):not(.q-stepper__tab--done):not(.q-stepper__tab--error) {{
  color: #6B7280; }}
html .codehilite .nd, html .codehilite .ow {{ color: #7A1FB8; }}
html .codehilite .c, html .codehilite .c1, html .codehilite .cm, html .codehilite .ch, html .codehilite .cs {{
  color: #2F6363; }}
html.studio-scaled .codehilite pre {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
.body--dark .text-gray-500 {{ color: #9CA3AF !important; }}
.body--dark .q-stepper__tab:not(.q-stepper__tab--active):not(.q-stepper__tab--done) {{ color: #9CA3AF; }}
@layer theme {{  /* Quasar's text-<colour> classes are !important: only a rule of the first layer outranks them */
  .body--dark .text-primary, .body--dark .nicegui-link, .body--dark .q-field--focused .q-field__label,
  .body--dark .q-stepper__tab--active {{ color: {DARK_TEXT['primary']} !important; }}
  .body--dark .text-negative {{ color: {DARK_TEXT['negative']} !important; }}
  .body--dark .text-positive {{ color: {DARK_TEXT['positive']} !important; }}
  .body--dark .text-warning {{ color: {DARK_TEXT['warning']} !important; }}
}}
"""

# scripts every page runs: the language of the page, its heading, a name for NiceGUI's code-copy buttons, and scrollable
# regions reachable by keyboard (axe: scrollable-region-focusable), kept as the page changes
A11Y_SCRIPT = """<script>
(() => {
  document.documentElement.lang = 'en';
  const scrollers = '.q-panel.scroll, .codehilite pre, .overflow-y-auto, .overflow-auto, .overflow-x-auto';
  const fix = () => {
    const main = document.querySelector('main');
    if (main && !document.querySelector('h1')) {  // the page's name as the heading a screen reader starts from
      const heading = document.createElement('h1');
      heading.className = 'sr-only';
      heading.textContent = document.title.split(' · ')[0];
      main.prepend(heading);
    }
    document.querySelectorAll('.nicegui-code-copy:not([aria-label])')
      .forEach(b => b.setAttribute('aria-label', 'Copy the code'));
    document.querySelectorAll(scrollers).forEach(e => {
      if (!e.hasAttribute('tabindex') && (e.scrollHeight > e.clientHeight || e.scrollWidth > e.clientWidth))
        e.setAttribute('tabindex', '0');
    });
  };
  let queued = false;
  const soon = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; fix(); }); } };
  new MutationObserver(soon).observe(document.documentElement, {childList: true, subtree: true});
  addEventListener('resize', soon);
})();
</script>"""

# high contrast: the greys of hints and borders darkened to 7:1, focus and links made unmistakable
CONTRAST_CSS = """
body.studio-contrast { color: #000; background: #fff; }
body.studio-contrast .text-gray-400, body.studio-contrast .text-gray-500, body.studio-contrast .text-gray-600,
body.studio-contrast .text-gray-700, body.studio-contrast .text-grey-6, body.studio-contrast .text-grey-7,
body.studio-contrast .opacity-80 { color: #1F2937 !important; opacity: 1 !important; }
body.studio-contrast .border-gray-200, body.studio-contrast .border-gray-300, body.studio-contrast .q-card,
body.studio-contrast .q-field--outlined .q-field__control:before { border-color: #111827 !important; }
body.studio-contrast .q-card { border: 1px solid #111827; }
body.studio-contrast main a { text-decoration: underline; }
body.studio-contrast :focus-visible { outline: 3px solid #000 !important; outline-offset: 2px; }
body.studio-contrast .q-field__label, body.studio-contrast .q-field__bottom { color: #1F2937; }
"""

# Quasar sizes its components in pixels: each of those sizes follows the scale, as the rem-based Tailwind ones do
# through the root font size. (selectors, property, pixels at 100 %)
_NATIVE = '.q-field__native, .q-field__prefix, .q-field__suffix'
_LABELED = ', '.join(f'.q-field--labeled {n}' for n in _NATIVE.split(', '))
_LABELED_DENSE = ', '.join(f'.q-field--labeled.q-field--dense {n}' for n in _NATIVE.split(', '))
SCALED_PX = (
    ('body, .q-btn, .q-chip, .q-field, .q-tab__label, .q-tooltip, .q-notification, .q-stepper__title, '
     '.q-stepper__dot, .q-uploader__title, .q-field--dense .q-field__label', 'font-size', 14),
    ('.q-field__label', 'font-size', 16),
    ('.q-field__bottom, .q-badge, .q-table th, .q-table__bottom, .q-stepper__caption, .q-slider__text, '
     '.q-uploader__subtitle', 'font-size', 12),
    ('.q-field--dense .q-field__bottom', 'font-size', 11),
    ('.q-table tbody td', 'font-size', 13),
    ('.q-tab__icon, .q-field__marginal, .q-item__section--side>.q-icon', 'font-size', 24),
    ('.q-field__control, .q-field__marginal', 'height', 56),
    ('.q-field--dense .q-field__control, .q-field--dense .q-field__marginal', 'height', 40),
    ('.q-field--auto-height .q-field__control, .q-field--auto-height .q-field__native', 'min-height', 56),
    ('.q-field--auto-height.q-field--dense .q-field__control, .q-field--auto-height.q-field--dense .q-field__native',
     'min-height', 40),
    (_NATIVE + ', .q-field__input', 'line-height', 28),
    (_LABELED + ', .q-field__input', 'line-height', 24),
    (_LABELED, 'padding-top', 24),
    (_LABELED_DENSE, 'padding-top', 14),
    ('.q-field__input', 'min-height', 24),
    ('.q-field__label', 'top', 18),
    ('.q-field--dense .q-field__label', 'top', 10),
    ('.q-field__bottom', 'min-height', 20),
    ('.q-stepper__dot', 'width', 24), ('.q-stepper__dot', 'min-width', 24), ('.q-stepper__dot', 'height', 24),
)


def font_css(percent: int) -> str:
    """CSS for text at `percent` % of its normal size ('' at 100 %)."""
    if percent == 100:
        return ''
    rules = '\n'.join(
        ', '.join(f'html.studio-scaled {one.strip()}' for one in selectors.split(', '))
        + f' {{ {prop}: {px * percent / 100:.1f}px; }}' for selectors, prop, px in SCALED_PX)
    return f'html.studio-scaled {{ font-size: {percent}%; }}\n{rules}'


def appearance(stored: dict) -> tuple[str, int]:
    """The theme (a key of THEMES) and the text size in percent a user's stored choices name."""
    if stored.get('contrast'):
        name = 'contrast'
    else:
        name = {True: 'dark', False: 'light'}.get(stored.get('dark'), 'auto')
    scale = stored.get('font_scale', 100)
    return name, scale if scale in FONT_SCALES else 100


def choose(stored: dict, name: str) -> None:
    """Remember theme `name` in a user's stored choices (the dark-mode switch keeps its own key)."""
    stored['contrast'] = name == 'contrast'
    stored['dark'] = {'dark': True, 'light': False, 'contrast': False}.get(name)
