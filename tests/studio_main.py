"""Main file for NiceGUI's user simulation: builds the studio on $RAVE_STUDIO_DATA_DIR."""
import os
from pathlib import Path

from nicegui import app, ui

from app.main import build

app.studio = build(Path(os.environ['RAVE_STUDIO_DATA_DIR']))
ui.run(storage_secret='test secret', reload=False)
