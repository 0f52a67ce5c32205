"""The one exception type whose message is shown to users as a single line."""

import re


class LrlError(Exception):
    """A user-facing error: the CLI prints `error: <message>` and exits non-zero, no traceback."""


def short_reason(text: str, limit: int = 200) -> str:
    """The first line of `text` without terminal colour codes, cut to at most `limit` characters at the end
    of a sentence (or else of a word, then marked with "...") rather than mid-word."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", text).strip().splitlines()
    first = lines[0].strip() if lines else ""
    if len(first) <= limit:
        return first
    head = first[:limit]
    end = head.rfind(". ")
    if end >= limit // 3:
        return head[: end + 1]
    return head[: head.rfind(" ")].rstrip(",;:") + "..." if " " in head else head[: limit - 3] + "..."


def one_line(exc: BaseException) -> str:
    """A short one-line reason for an unexpected exception (type and first line of the message)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {first}"[:300] if first else name


def library_of(filename: str) -> str:
    """The package a warning came from: the folder under site-packages (or dist-packages), else the file."""
    parts = str(filename).replace("\\", "/").split("/")
    for i, part in enumerate(parts[:-1]):
        if part in ("site-packages", "dist-packages"):
            return parts[i + 1].removesuffix(".py")
    return parts[-1].removesuffix(".py") or "a library"


def warning_line(message, category: type, filename: str) -> str:
    """A library's warning as one line of ours (it never reaches the terminal bare): who warned, its
    first sentence, and what it means for the run."""
    return (
        f"note: {library_of(filename)} (a library lrl uses) warned: {short_reason(str(message))} "
        f"({category.__name__}); lrl goes on, and names any result this affects as failed"
    )


def route_warnings() -> None:
    """Show every Python warning of this process as `warning_line`, on stderr (the CLI's commands and their
    worker processes call this once)."""
    import sys
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        print(warning_line(message, category, filename), file=file or sys.stderr)

    warnings.showwarning = show
