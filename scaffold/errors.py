"""The one exception a user sees: a clear one-line message and a non-zero exit code."""


class ScaffoldError(Exception):
    """A problem the user can fix. The CLI prints `scaffold: error: <message>` and exits."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Interrupted(KeyboardInterrupt):
    """Ctrl-C after the work was already done: the CLI says what is in place instead of
    "nothing was written"."""

    def __init__(self, done: str) -> None:
        super().__init__(done)
        self.done = done
