"""Errors a user can fix: the CLI prints them as one line and exits with code 2."""


class UserError(Exception):
    """Bad input (a path, a value, a model): the message says what is wrong and how to fix it."""

    exit_code = 2


class InferenceError(Exception):
    """The engine failed while running the model (not the user's command line)."""

    exit_code = 1
