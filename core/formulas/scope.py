"""The state of one evaluation, shared by the compiled formulas it runs."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.formulas.lookups import LookupRequest
    from core.schemas.refs import SchemaResolver

MAX_DEPTH = 32


class Scope:
    """Everything a compiled formula may read while it runs.

    Attributes:
        variables: What locators read (`item`, `parent`, `index` are added inside `$iterate`).
        resolved: Results of I/O formulas, by request.
        pending: When collecting lookups, the requests met so far (an insertion-ordered set);
            None when evaluating.
        root: The outermost object being built, read by `$copy`.
        schemas: Resolver for `$dataSchemaRef`.
        sensitive: Paths and keys whose values must not appear in error messages.
        depth: Nesting of `$formula` evaluations, bounded to stop self-reference.
    """

    __slots__ = ("depth", "pending", "resolved", "root", "schemas", "sensitive", "variables")

    def __init__(
        self,
        variables: Any,
        *,
        resolved: Mapping[LookupRequest, Any] | None = None,
        pending: dict[LookupRequest, None] | None = None,
        schemas: SchemaResolver | None = None,
        sensitive: Collection[str] | None = None,
    ) -> None:
        self.variables = variables
        self.resolved = resolved
        self.pending = pending
        self.root: dict[str, Any] | None = None
        self.schemas = schemas
        self.sensitive = sensitive
        self.depth = 0


Evaluator = Callable[[Scope], Any]
