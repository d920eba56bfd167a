"""Import errors that say where: file (and sheet), line (or row) and field. A bad file is rejected
whole, with every problem found (up to a limit), so the administrator fixes
them in one round instead of one per attempt."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

MAX_ISSUES = 200


class ImportIssue(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    line: int | None = None  # the line of a text file, the row of a sheet
    field: str | None = None
    message: str
    sheet: str | None = None  # the sheet of a workbook

    def __str__(self) -> str:
        if self.sheet is not None:
            where = f"{self.file}, sheet {self.sheet}" + ("" if self.line is None else f", row {self.line}")
        else:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class DirectoryImportError(ValueError):
    """The input was refused; nothing was written."""

    def __init__(self, issues: list[ImportIssue], more: int = 0) -> None:
        self.issues = issues
        self.more = more
        lines = [str(i) for i in issues]
        if more:
            lines.append(f"… and {more} more")
        super().__init__(f"directory import refused ({len(issues) + more} problem{'s' if len(issues) + more != 1 else ''}):\n" + "\n".join(lines))


class IssueList:
    """Collects issues, keeping the first ``MAX_ISSUES`` and counting the rest."""

    def __init__(self) -> None:
        self.items: list[ImportIssue] = []
        self.more = 0

    def add(self, file: str, line: int | None, field: str | None, message: str, *, sheet: str | None = None) -> None:
        if len(self.items) < MAX_ISSUES:
            self.items.append(ImportIssue(file=file, line=line, field=field, message=message, sheet=sheet))
        else:
            self.more += 1

    def add_validation(self, file: str, line: int | None, err: ValidationError, prefix: tuple = (), *, sheet: str | None = None) -> None:
        for e in err.errors(include_url=False):
            loc = tuple(e["loc"])[len(prefix):] if prefix and tuple(e["loc"])[:len(prefix)] == prefix else tuple(e["loc"])
            self.add(file, line, ".".join(str(x) for x in loc) or None, e["msg"], sheet=sheet)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise DirectoryImportError(self.items, self.more)
