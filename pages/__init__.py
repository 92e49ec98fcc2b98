"""One module per area. ROUTES maps each URL to (title, builder); app/main.py wraps them in the frame.

A builder is `build(studio, project, **path_params)`.
"""
from pages.training import configs, tensorboard, overview as training, wizard as training_wizard
from pages import dashboard, help, projects, settings
from pages.datasets import detail as dataset_detail, inspector as dataset_inspector, overview as datasets
from pages.models import explorer, export, library as models

ROUTES = {
    '/': ('Dashboard', dashboard.create),
    '/projects': ('Projects', projects.create),
    '/datasets': ('Datasets', datasets.create),
    '/datasets/{dataset_id}': ('Dataset', dataset_detail.create),
    '/datasets/{dataset_id}/inspect': ('Inspect dataset', dataset_inspector.create),
    '/training': ('Training', training.create),
    '/training/new': ('New training', training_wizard.create),
    '/training/configs': ('Configs', configs.create),
    '/training/tensorboard': ('TensorBoard', tensorboard.create),
    '/training/runs/{run_id}': ('Run', training.run_page),
    '/models': ('Models', models.create),
    '/export': ('Export', export.create),
    '/explorer': ('Explorer', explorer.create),
    '/settings': ('Settings', settings.create),
    '/help': ('Help', help.create),
}
