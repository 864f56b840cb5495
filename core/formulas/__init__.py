"""Formulas: JSON objects whose only key starts with `$`, evaluated against variables.

Mappings (JSON with formulas inside) are compiled once into closures and evaluated purely,
so they can run inside Temporal workflows. Formulas that need data from outside (`$lookup`,
`$findExternalRecordId`, `$findAppRecordId`) are resolved in batches beforehand: collect the
requests over many records, resolve them with one call per group, then evaluate. See
docs/formulas.md.
"""

from __future__ import annotations

from core.formulas.batching import LookupBatchError, evaluate_with_io, resolve_lookups
from core.formulas.engine import (
    CompiledFormula,
    collect_lookups,
    compile_formula,
    evaluate,
    matches_filter,
)
from core.formulas.errors import FormulaEvaluationError, FormulaProblem, InvalidFormulaError
from core.formulas.inference import infer_output_schema
from core.formulas.locators import LocatorError, parse_locator
from core.formulas.lookups import (
    AppIdLookup,
    CollectionRef,
    ExternalIdLookup,
    LookupRequest,
    LookupResolver,
    RecordLookup,
    ResolvedLookups,
    dump_request,
    dump_resolved,
    load_request,
    load_resolved,
)
from core.formulas.operators import EVAL_OPERATORS, FILTER_OPERATORS
from core.formulas.registry import FORMULAS
from core.formulas.validation import validate_formula
from core.formulas.values import UNDEFINED

__all__ = [
    "EVAL_OPERATORS",
    "FILTER_OPERATORS",
    "FORMULAS",
    "UNDEFINED",
    "AppIdLookup",
    "CollectionRef",
    "CompiledFormula",
    "ExternalIdLookup",
    "FormulaEvaluationError",
    "FormulaProblem",
    "InvalidFormulaError",
    "LocatorError",
    "LookupBatchError",
    "LookupRequest",
    "LookupResolver",
    "RecordLookup",
    "ResolvedLookups",
    "collect_lookups",
    "compile_formula",
    "dump_request",
    "dump_resolved",
    "evaluate",
    "evaluate_with_io",
    "infer_output_schema",
    "load_request",
    "load_resolved",
    "matches_filter",
    "parse_locator",
    "resolve_lookups",
    "validate_formula",
]
