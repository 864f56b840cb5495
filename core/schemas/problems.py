"""What is wrong with a value or a schema, and where."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SchemaProblem:
    """One problem found while validating a value or a schema.

    Attributes:
        path: Where the problem is (`fields.tags[2]`); empty for the root.
        message: What is wrong. Never contains the value of a sensitive field.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, str]:
        """The problem as `{path, message}`, the shape API errors list."""
        return {"path": self.path, "message": self.message}
