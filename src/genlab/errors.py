"""One error type for everything a user can get wrong.

The CLI turns a :class:`GenlabError` into a one-line message on stderr and exit code 2,
never a traceback.
"""


class GenlabError(Exception):
    """A problem with the user's input or environment, with what to do about it."""

    exit_code = 2


class TrainingDiverged(GenlabError):
    """The loss became NaN/Inf; the last good checkpoint is kept."""

    exit_code = 3
