"""One root exception for everything Longpan raises on purpose.

    LongpanError
     ├── ConfigError            bad or missing configuration
     │    └── MissingExtraError  an optional dependency group is not installed
     ├── InputError             user-supplied data or arguments are wrong (carries a location)
     │    └── IdentifierError   a malformed 统一社会信用代码, ICP number, domain or IP
     ├── NotFoundError          a subject, dataset or record does not exist
     ├── UpstreamError          an engine, database or external service failed
     └── DetectorError          a detector raised or broke its declared contract

The CLI turns every LongpanError into one line on stderr and exit code 2; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations


class LongpanError(Exception):
    """Root of every error Longpan raises deliberately."""


class ConfigError(LongpanError):
    """Configuration is invalid or incomplete."""


class MissingExtraError(ConfigError):
    """An optional dependency group (pip extra) is not installed."""

    def __init__(self, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f"this feature needs the '{extra}' extra (module '{module}' is missing); "
            f"install it with: pip install 'longpan[{extra}]'"
        )


class InputError(LongpanError):
    """User input is wrong; knows where (file, line, column) when that is known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class IdentifierError(InputError):
    """A malformed identifier: says which value and what is wrong with it."""

    def __init__(self, kind: str, value: str, reason: str) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {kind} {value!r}: {reason}")


class NotFoundError(LongpanError):
    """A subject, dataset or record that was asked for does not exist."""


class UpstreamError(LongpanError):
    """An engine, database or external service failed."""


class DetectorError(LongpanError):
    """A detector raised, or returned output that breaks its contract."""
