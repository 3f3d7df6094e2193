"""Errors raised by xrm. Each carries a stable ``code`` that clients can rely on."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "XrmError",
    "MetadataIssue",
    "MetadataError",
    "SolutionError",
    "MigrationError",
    "DataLossError",
    "AttributeProblem",
    "ValidationError",
    "NotFoundError",
    "ConcurrencyError",
    "AccessDeniedError",
    "PluginExecutionError",
    "LoopDetectedError",
    "InvalidOperationError",
    "DatabaseUnavailableError",
    "IntegrityViolationError",
]


class XrmError(Exception):
    """Base class of every error xrm raises on purpose; ``code`` is stable."""

    code: str = "XRM_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


@dataclass(frozen=True, order=True)
class MetadataIssue:
    """One problem in a metadata file: where it is and what is wrong."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class MetadataError(XrmError):
    """Metadata that does not validate; ``issues`` lists every problem found."""

    code = "METADATA_INVALID"

    def __init__(self, issues: list[MetadataIssue]) -> None:
        self.issues = sorted(issues)
        count = len(self.issues)
        header = f"{count} metadata error{'s' if count != 1 else ''}"
        super().__init__(header + ":\n" + "\n".join(f"  {issue}" for issue in self.issues))


class SolutionError(XrmError):
    """A solution cannot be installed, upgraded or uninstalled as asked."""

    code = "SOLUTION_ERROR"


class MigrationError(XrmError):
    """A schema change that cannot be applied."""

    code = "MIGRATION_ERROR"


class DataLossError(MigrationError):
    """A schema change would drop or narrow data; refused unless data loss is allowed."""

    code = "DATA_LOSS"

    def __init__(self, losses: list[str]) -> None:
        self.losses = losses
        super().__init__(
            "refused: the change would lose data (pass --allow-data-loss to accept):\n"
            + "\n".join(f"  - {loss}" for loss in losses)
        )


@dataclass(frozen=True)
class AttributeProblem:
    """One attribute of a request that failed validation, and why."""

    attribute: str
    reason: str

    def __str__(self) -> str:
        return f"{self.attribute}: {self.reason}"


class ValidationError(XrmError):
    """Bad input: ``problems`` lists every failing attribute; nothing was written."""

    code = "BAD_USER_INPUT"

    def __init__(self, entity: str, problems: list[AttributeProblem]) -> None:
        self.entity = entity
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"invalid {entity}: {len(problems)} problem{'s' if len(problems) != 1 else ''}:\n{lines}")


class NotFoundError(XrmError):
    code = "NOT_FOUND"


class ConcurrencyError(XrmError):
    """The record changed since the caller read it (``versionnumber`` mismatch)."""

    code = "CONFLICT"


class AccessDeniedError(XrmError):
    code = "FORBIDDEN"


class PluginExecutionError(XrmError):
    """A plugin raised; the whole operation was rolled back. The message is the plugin's."""

    code = "PLUGIN_ERROR"

    def __init__(self, message: str, *, step: str | None = None) -> None:
        self.step = step
        super().__init__(message)


class LoopDetectedError(XrmError):
    """Nested calls went deeper than the pipeline allows (8, as Dataverse)."""

    code = "LOOP_DETECTED"


class InvalidOperationError(XrmError):
    """The operation is not allowed in the record's current state (closed record, bad transition...)."""

    code = "INVALID_OPERATION"


class DatabaseUnavailableError(XrmError):
    """The database connection failed during the operation; nothing was committed. Retry."""

    code = "SERVICE_UNAVAILABLE"


class IntegrityViolationError(XrmError):
    """The database refused the change (a unique key or reference); nothing was written."""

    code = "CONFLICT"
