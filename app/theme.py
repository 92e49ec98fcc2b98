"""Design tokens: the one place for colours, status meanings, spacing and chart styling.

A leaf module (no imports from the project) so pages and components may read it.
"""
ACCENT = '#6C5CE7'  # the one accent colour
COLORS = {
    'primary': ACCENT,
    'secondary': '#4B5563',
    'accent': '#00B894',
    'positive': '#10B981',
    'negative': '#EF4444',
    'warning': '#F59E0B',
    'info': '#3B82F6',
    'dark': '#111318',
    'dark-page': '#0B0C10',
}

# status chips have fixed meanings everywhere: (Quasar colour, icon)
STATUS = {
    'queued': ('grey-6', 'schedule'),
    'running': ('primary', 'play_circle'),
    'paused': ('warning', 'pause_circle'),
    'done': ('positive', 'check_circle'),
    'ready': ('positive', 'check_circle'),
    'failed': ('negative', 'error'),
    'interrupted': ('orange-8', 'report'),
    'cancelled': ('grey-7', 'cancel'),
    'building': ('primary', 'construction'),
    'imported': ('secondary', 'drive_folder_upload'),
}
# what a status means where its word alone does not say it (the chip's tooltip)
STATUS_HINT = {
    'imported': 'Trained by the plain RAVE command line and imported: its curves come from its TensorBoard '
                'events; it can be resumed and exported like a run of the studio.',
}

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
"""
