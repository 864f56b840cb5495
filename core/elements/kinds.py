"""Element kinds: what each definition holds and how it is checked before it is saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, ValidationError

from core.elements.actions import ActionDefinition, action_problems
from core.elements.definition import Definition, Problem
from core.elements.flows import FlowDefinition, flow_problems
from core.formulas import validate_formula
from core.schemas import validate_schema


class DataSourceDefinition(Definition):
    """Points an integration (and each customer) at a data collection."""

    collection_key: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    udm: str | None = Field(None, description="Unified model, for universal data sources.")
    pull_interval_seconds: int | None = Field(None, ge=10)


class FieldMappingDefinition(Definition):
    """Bidirectional transformation between the product's schema and a data source's fields."""

    app_schema: dict[str, Any] | None = None
    app_data_schema_key: str | None = None
    data_source_key: str | None = None
    direction: Literal["import", "export", "both"] = "both"
    import_value: Any = None
    export_value: Any = None
    frozen_import_fields: list[str] = Field(default_factory=list)
    frozen_export_fields: list[str] = Field(default_factory=list)


class DataLinkTableDefinition(Definition):
    description: str | None = None


class AppDataSchemaDefinition(Definition):
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")


class AppEventTypeDefinition(Definition):
    """An event the product sends to Osmo (`POST /app-events/{typeKey}`): its payload's
    JSON Schema, an example, and the formula finding the customer for the global URL."""

    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    example: Any = None
    customer_formula: Any = Field(
        None,
        description="Formula over `{payload}` giving the customer's tenantKey "
        "(`POST /app-events/{typeKey}/webhook` with a workspace token).",
    )


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"])
        problems.append({"path": path, "message": error["msg"]})
    return problems


def _field_mapping_problems(definition: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(definition.get("appSchema"), dict):
        problems += [
            {"path": f"appSchema{'.' + p.path if p.path else ''}", "message": p.message}
            for p in validate_schema(definition["appSchema"])
        ]
    for name in ("importValue", "exportValue"):
        if definition.get(name) is not None:
            problems += [
                {"path": f"{name}{'.' + p.path if p.path else ''}", "message": p.message}
                for p in validate_formula(definition[name])
            ]
    return problems


def _schema_problems(definition: dict[str, Any]) -> list[Problem]:
    return (
        [
            {"path": f"schema{'.' + p.path if p.path else ''}", "message": p.message}
            for p in validate_schema(definition["schema"])
        ]
        if isinstance(definition.get("schema"), dict)
        else []
    )


def _app_event_type_problems(definition: dict[str, Any]) -> list[Problem]:
    problems = _schema_problems(definition)
    if definition.get("customerFormula") is not None:
        problems += [
            {"path": f"customerFormula{'.' + p.path if p.path else ''}", "message": p.message}
            for p in validate_formula(definition["customerFormula"])
        ]
    return problems


@dataclass(frozen=True)
class ElementKind:
    """One kind of element and the rules of its definition."""

    name: str  # kebab-case plural, as in the API path
    model: type[Definition]
    check: Callable[[dict[str, Any]], list[Problem]] = lambda _: []
    customizable: tuple[str, ...] = field(default_factory=tuple)

    def validate(self, definition: dict[str, Any]) -> list[Problem]:
        """Every problem of a (merged) definition, each with its path."""
        problems: list[Problem] = []
        try:
            self.model.model_validate(definition)
        except ValidationError as exc:
            problems += _pydantic_problems(exc)
        return problems + self.check(definition)


KINDS: dict[str, ElementKind] = {
    kind.name: kind
    for kind in (
        ElementKind("data-sources", DataSourceDefinition, customizable=("parameters",)),
        ElementKind(
            "field-mappings",
            FieldMappingDefinition,
            _field_mapping_problems,
            customizable=("importValue", "exportValue", "direction"),
        ),
        ElementKind("data-link-tables", DataLinkTableDefinition),
        ElementKind("app-data-schemas", AppDataSchemaDefinition, _schema_problems),
        ElementKind("app-event-types", AppEventTypeDefinition, _app_event_type_problems),
        ElementKind(
            "flows", FlowDefinition, flow_problems, customizable=("parameters", "enabled", "nodes")
        ),
        ElementKind(
            "actions", ActionDefinition, action_problems, customizable=("config", "outputMapping")
        ),
    )
}
