"""Static checks of a mapping: every problem, with its full path, without evaluating."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.formulas.compiler import compile_value
from core.formulas.errors import FormulaProblem
from core.formulas.inference import locator_problems


def validate_formula(
    value: Any, input_schema: Mapping[str, Any] | None = None
) -> list[FormulaProblem]:
    """List every problem in a mapping.

    Reports unknown formulas, malformed arguments (e.g. `$case` without cases, a `$map` mapping
    that is not a list), unknown `$eval` and filter operators, malformed locators and
    templates, invalid or non-deterministic JSONata, and, given `input_schema`, locators into
    fields the input does not have.

    Returns:
        Problems such as `fields.owner.$case[1].filter[0].operator: unknown operator "equalz"`;
        empty when the mapping is valid.
    """
    _, problems = compile_value(value)
    found = list(problems)
    if input_schema is not None:
        found.extend(p for p in locator_problems(value, input_schema) if p not in found)
    return found
