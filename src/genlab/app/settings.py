"""What the studio was started with. ``genlab studio`` passes it to the Streamlit process in
environment variables, so the app, its tests and the benchmark read it the same way."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from genlab.train.runstore import default_runs_dir

ENV_FOLDERS = "GENLAB_STUDIO_FOLDERS"  # extra readable folders, os.pathsep-separated
ENV_TRAIN = "GENLAB_STUDIO_TRAIN"  # "0" disables the background trainer
ENV_MAX_UPLOAD_MB = "GENLAB_STUDIO_MAX_UPLOAD_MB"

DEFAULT_MAX_UPLOAD_MB = 5
MAX_UPLOAD_PIXELS = 4096 * 4096  # an upload is shrunk to 28x28 anyway; bigger ones are refused


@dataclass(frozen=True)
class Settings:
    runs: Path  # the runs folder (absolute); the studio's own state lives in runs/.studio
    folders: tuple[Path, ...] = field(default_factory=tuple)  # other folders the user allowed
    train: bool = True  # train missing models in the background
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB

    @property
    def roots(self) -> tuple[Path, ...]:
        """Every folder the studio may read: the runs folder and the folders given on the command line."""
        return (self.runs, *self.folders)

    @property
    def state_dir(self) -> Path:
        return self.runs / ".studio"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def load_settings() -> Settings:
    folders = tuple(Path(p).resolve() for p in os.environ.get(ENV_FOLDERS, "").split(os.pathsep) if p)
    try:
        mb = max(1, int(os.environ.get(ENV_MAX_UPLOAD_MB, DEFAULT_MAX_UPLOAD_MB)))
    except ValueError:
        mb = DEFAULT_MAX_UPLOAD_MB
    return Settings(default_runs_dir().resolve(), folders, os.environ.get(ENV_TRAIN, "1") != "0", mb)


def environment(runs, folders=(), train: bool = True, max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB) -> dict[str, str]:
    """The environment variables that make :func:`load_settings` return these settings."""
    return {
        "GENLAB_RUNS": str(Path(runs).resolve()),
        ENV_FOLDERS: os.pathsep.join(str(Path(f).resolve()) for f in folders),
        ENV_TRAIN: "1" if train else "0",
        ENV_MAX_UPLOAD_MB: str(max_upload_mb),
    }
