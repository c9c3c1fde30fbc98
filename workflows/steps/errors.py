"""How a step fails: one message naming the day, dataset and cause, and whether a retry can help.

The command line turns ``retryable`` into its exit code (1: a retry may help; 3: it cannot), and Argo's
retry expression retries only the first kind, so a bad key or a corrupt part fails once, not six times.
"""

from __future__ import annotations

from workflows import logs


class StepError(RuntimeError):
    """A step failed; the message names the step, the day, the dataset and the cause."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def retryable(exc: BaseException) -> bool:
    """False when ``exc`` or anything that caused it says that trying again cannot help.

    Errors declare it with a ``retryable`` attribute (the Polygon client's, the lake's corrupt parts,
    the loader's); everything else (network, locks, outages) is taken as transient.
    """
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if getattr(current, "retryable", True) is False:
            return False
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return True


def describe(exc: BaseException) -> str:
    """One line for a log or a message: a StepError's own text, otherwise the type and text; redacted."""
    text = str(exc) if isinstance(exc, StepError) else f"{type(exc).__name__}: {exc}"
    return logs.redact(text)
