"""Problems in formulas: static ones (`FormulaProblem`) and evaluation failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import OsmoError
from core.formulas.values import UNDEFINED, json_type
from core.schemas.sensitivity import is_sensitive_path
from core.schemas.types import preview

if TYPE_CHECKING:
    from core.formulas.scope import Scope


@dataclass(frozen=True)
class FormulaProblem:
    """Something wrong with a formula, found without evaluating it.

    Attributes:
        path: Where, e.g. `fields.owner.$case[1].filter[0].operator`.
        message: What, e.g. `unknown operator "equalz"`.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, str]:
        """The problem as `{path, message}`, the shape API errors list."""
        return {"path": self.path, "message": self.message}


class FormulaEvaluationError(OsmoError):
    """A formula could not be evaluated.

    Attributes:
        path: The formula that failed, e.g. `fields.owner.$case[1]`.
    """

    def __init__(self, path: str, message: str, key: str = "formula_evaluation_error") -> None:
        super().__init__(
            "bad_request",
            key,
            f"{path}: {message}" if path else message,
            {"path": path},
            status=422,
        )
        self.path = path


class InvalidFormulaError(FormulaEvaluationError):
    """The formula is malformed (see `validate_formula`); it was not evaluated."""

    def __init__(self, problems: Sequence[FormulaProblem]) -> None:
        first = problems[0]
        super().__init__(first.path, first.message, key="invalid_formula")
        self.problems = list(problems)
        self.data["errors"] = [problem.to_dict() for problem in problems]


@dataclass(frozen=True, slots=True)
class Site:
    """Where a formula sits, used to word its evaluation errors.

    Attributes:
        path: Path of the formula in the mapping.
        locators: Input locators the formula reads; with `path`, they decide whether the
            formula handles a sensitive field.
    """

    path: str
    locators: tuple[str, ...] = ()

    def is_sensitive(self, scope: Scope) -> bool:
        """Whether values met here may be secrets, given the evaluation's sensitive set."""
        hidden = scope.sensitive
        if not hidden:
            return False
        paths = (self.path, *(loc.removeprefix("$").removeprefix(".") for loc in self.locators))
        return any(is_sensitive_path(path, hidden) for path in paths)

    def fail(self, scope: Scope, message: str, value: Any = UNDEFINED) -> FormulaEvaluationError:
        """An error at this site; `value` is quoted only when not sensitive."""
        if value is not UNDEFINED and not self.is_sensitive(scope):
            message = f"{message}: {preview(value)}"
        return FormulaEvaluationError(self.path, message)

    def type_error(self, scope: Scope, expected: str, value: Any) -> FormulaEvaluationError:
        """An error for a value of the wrong type: names the type, quotes it when allowed."""
        return self.fail(scope, f"expected {expected}, got {json_type(value)}", value)
