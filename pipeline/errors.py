"""The one exception type whose message is shown to users as a single line."""


class LrlError(Exception):
    """A user-facing error: the CLI prints `error: <message>` and exits non-zero, no traceback."""


def one_line(exc: BaseException) -> str:
    """A short one-line reason for an unexpected exception (type and first line of the message)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {first}"[:300] if first else name
