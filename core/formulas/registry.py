"""Every formula by name, with the function that compiles it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.formulas import io_formulas, jsonata_formula, logic, schema_ref, structure, text
from core.formulas.scope import Evaluator

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler

CompileFormula = Callable[[Any, "Compiler", str], Evaluator]

FORMULAS: dict[str, CompileFormula] = {
    "$var": structure.compile_var,
    "$tpl": text.compile_tpl,
    "$concat": text.compile_concat,
    "$plain": structure.compile_plain,
    "$copy": structure.compile_copy,
    "$map": logic.compile_map,
    "$case": logic.compile_case,
    "$eval": logic.compile_eval,
    "$and": logic.compile_and,
    "$or": logic.compile_or,
    "$iterate": structure.compile_iterate,
    "$firstName": text.compile_first_name,
    "$lastName": text.compile_last_name,
    "$extractDate": text.compile_extract_date,
    "$extractTime": text.compile_extract_time,
    "$domainFromEmail": text.compile_domain_from_email,
    "$firstNotEmpty": structure.compile_first_not_empty,
    "$mergeObjects": structure.compile_merge_objects,
    "$jsonata": jsonata_formula.compile_jsonata,
    "$formula": structure.compile_dynamic_formula,
    "$record": structure.compile_record,
    "$dataSchemaRef": schema_ref.compile_data_schema_ref,
    "$lookup": io_formulas.compile_lookup,
    "$findExternalRecordId": io_formulas.compile_find_external_record_id,
    "$findAppRecordId": io_formulas.compile_find_app_record_id,
}

# Formulas that need resolved lookups to evaluate.
IO_FORMULAS = frozenset({"$lookup", "$findExternalRecordId", "$findAppRecordId"})
