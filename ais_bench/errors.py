"""Errors a user can fix: the CLI prints them as one line and exits with code 2.

Each also subclasses the built-in a Python caller would expect, so API users can write
`except ValueError` or `except FileNotFoundError` without knowing ais_bench's own types.
"""


class UserError(ValueError):
    """Bad input (a path, a value, a model): the message says what is wrong and how to fix it."""

    exit_code = 2


class NotFoundError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class InferenceError(RuntimeError):
    """The engine failed while running the model (not the user's command line)."""

    exit_code = 1


# Every UserError type by name: errors that cross a process boundary as text are raised again
# as the same type on the caller's side.
USER_ERRORS: dict[str, type[UserError]] = {t.__name__: t for t in (UserError, NotFoundError)}
