"""`$dataSchemaRef`: the schema of a data collection or app data schema, as a value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.formulas.scope import Evaluator, Scope
from core.schemas.refs import REF_TYPES, SchemaRefError, resolve_schema_refs

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler


def compile_data_schema_ref(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$dataSchemaRef": {"type": "app-data-schema", "key": "task"}}`: the referenced schema.

    `type` is `data-collection` (with `parameters`) or `app-data-schema`; any part may be a
    formula. The schema comes from the `SchemaResolver` passed to the evaluation, with nested
    references resolved.
    """
    if not isinstance(arg, dict):
        return c.problem(here, "expected {type, key, parameters?}")
    if isinstance(arg.get("type"), str) and arg["type"] not in REF_TYPES:
        c.problem(f"{here}.type", f"expected one of {', '.join(REF_TYPES)}")
    if "key" not in arg:
        c.problem(f"{here}.key", "a schema reference needs a key")
    build_ref = c.compile(arg, here)
    site = c.site(here, arg)

    def data_schema_ref(scope: Scope) -> Any:
        ref = build_ref(scope)
        if scope.schemas is None:
            raise site.fail(scope, "no schema resolver was given to resolve $dataSchemaRef")
        try:
            return resolve_schema_refs({"$dataSchemaRef": ref}, scope.schemas)
        except SchemaRefError as error:
            raise site.fail(scope, str(error)) from None

    return data_schema_ref
