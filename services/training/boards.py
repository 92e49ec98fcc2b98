"""TensorBoard from the Training facade: the project's log folders, and boards on the project, a run or one of
its version folders (services/training/tensorboard.py runs them). A part of `Training`, kept apart so the facade
module stays readable; it relies on the facade's `runs_folder`, `run_root`, `run`, `actor` and `_tensorboard`."""
from __future__ import annotations

from services import access
from services.access import Action
from services.training.tensorboard import LogFolder, TensorBoardError
from services.training.views import BoardView


class Boards:
    def log_folders(self, project_id: int) -> list[LogFolder]:
        return self._tensorboard.log_folders(self.runs_folder(project_id))

    def delete_log_folder(self, project_id: int, path: str) -> None:
        """Delete one version_N folder of the project's runs (logs and checkpoints); refuses anything else."""
        root = self.runs_folder(project_id)
        access.require(self.actor, Action.DELETE, project_id)
        self._tensorboard.delete_folder(root, path)

    def board(self, key: str) -> BoardView | None:
        board = self._tensorboard.boards.get(key)
        return BoardView.of(board) if board is not None and board.alive else None

    def open_board(self, project_id: int, *, run_id: int | None = None,
                   folder: str | None = None) -> BoardView:
        """TensorBoard (blocking start) on the project's runs, one run, or one of its version folders."""
        root = self.runs_folder(project_id)
        if run_id is not None:
            logdir, key = self.run_root(run_id), f'run-{run_id}'
            if not logdir:
                raise TensorBoardError('This run has not written logs yet: TensorBoard can open once '
                                       'training started.')
            title = self.run(run_id).name
        elif folder is not None:
            found = next((f for f in self.log_folders(project_id) if f.path == folder), None)
            if found is None:
                raise TensorBoardError(f'{folder} is not a log folder of this project.')
            logdir, key, title = found.path, f'{found.run}-{found.version}', f'{found.run}/{found.version}'
        else:
            logdir, key, title = root, f'project-{project_id}', 'all runs'
        return BoardView.of(self._tensorboard.start(key, logdir, title))

    def stop_board(self, key: str) -> None:
        self._tensorboard.stop(key)
