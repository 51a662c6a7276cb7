"""Where the shared test data (../shared/data: real SIS exports, Ed-Fi descriptors, NC figures)
is, found from the repository rather than from an absolute path: beside the repository, or
beside one of its parents (a git worktree lives a level deeper). ATTENDNC_SHARED_DATA, when set,
wins."""

import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def shared_data(*parts: str) -> Path:
    override = os.environ.get("ATTENDNC_SHARED_DATA")
    if override:
        return Path(override, *parts)
    for parent in REPOSITORY.parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate.joinpath(*parts)
    return REPOSITORY.parent.joinpath("shared", "data", *parts)
