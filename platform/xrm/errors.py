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
