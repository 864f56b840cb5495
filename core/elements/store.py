"""Elements at three layers: universal → integration → connection instance.

Running anything resolves the layers into one definition: the parent's resolved definition with
the element's own definition laid over it (top-level keys), frozen fields kept from the parent.
An element remembers what each key it shadows looked like in the parent (`base`), so it can take
the parent's newer version later and keep its own changes (`update_to_latest`).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.elements.kinds import KINDS, ElementKind
from core.elements.merge import ABSENT, MergeReport, merge_three_way
from core.elements.models import UNIVERSAL, Element, scope_of
from core.errors import OsmoError, conflict, not_found, validation_error
from core.models import Connection, Integration, utcnow

FROZEN = {"importValue": "frozenImportFields", "exportValue": "frozenExportFields"}


def kind_of(name: str) -> ElementKind:
    kind = KINDS.get(name)
    if kind is None:
        raise OsmoError(
            "not_found", "element_kind_not_found", f"Unknown element kind {name!r}", status=404
        )
    return kind


def layer_of(element: Element) -> str:
    if element.connection_id:
        return "connection"
    return "integration" if element.integration_id else UNIVERSAL


def _base_of(definition: dict[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    """The inherited values of the keys `definition` shadows (keys the parent lacks left out)."""
    return {key: deepcopy(inherited[key]) for key in definition if key in inherited}


def _check_revision(element: Element, revision: int | None) -> None:
    if revision is not None and revision != element.revision:
        raise conflict(
            "revision_conflict",
            f"The element is at revision {element.revision}, not {revision}; reload it",
            revision=element.revision,
        )


class ElementStore:
    """Reads and writes elements of every kind within one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- lookup ---------------------------------------------------------------------

    def _one(self, kind: str, key: str, scope: str) -> Element | None:
        return self.session.exec(
            select(Element).where(Element.kind == kind, Element.key == key, Element.scope == scope)
        ).first()

    def find(self, kind: str, selector: str) -> Element:
        """By id, by key (universal layer), or by `integrationKey.elementKey`."""
        element = self.session.get(Element, selector)
        if element is not None and element.kind == kind and not element.connection_id:
            return element
        element = self._one(kind, selector, UNIVERSAL)
        if element is None and "." in selector:
            integration_key, _, key = selector.partition(".")
            integration = self.session.exec(
                select(Integration).where(Integration.key == integration_key)
            ).first()
            if integration is not None:
                element = self._one(kind, key, scope_of(integration.id, None, None))
        if element is None:
            raise not_found(kind.rstrip("s").replace("-", "_"), selector)
        return element

    def at_integration(self, kind: str, key: str, integration: Integration) -> Element:
        element = self._one(kind, key, scope_of(integration.id, None, None))
        if element is None:
            raise not_found(kind.rstrip("s").replace("-", "_"), f"{integration.key}.{key}")
        return element

    def list(self, kind: str, scope: str) -> list[Element]:
        """Every element of `kind` at `scope`, by key (for the few callers that need all)."""
        statement = self.listing(kind, scope).order_by(Element.key)  # type: ignore[arg-type]
        return list(self.session.exec(statement).all())

    @staticmethod
    def listing(kind: str, scope: str) -> Any:
        """The statement selecting the elements of `kind` at `scope` (a page at a time)."""
        return select(Element).where(Element.kind == kind, Element.scope == scope)

    # -- resolution -----------------------------------------------------------------

    def resolve(self, element: Element) -> dict[str, Any]:
        """The element's effective definition through its parents."""
        if element.parent_id is None:
            return dict(element.definition)
        inherited = self.resolve_parent(element)
        merged = {**inherited, **element.definition}
        for value_key, frozen_key in FROZEN.items():
            frozen = inherited.get(frozen_key) or []
            if frozen and isinstance(merged.get(value_key), dict):
                parent_value = inherited.get(value_key) or {}
                merged[value_key] = {**merged[value_key]}
                for name in frozen:
                    if name in parent_value:
                        merged[value_key][name] = parent_value[name]
        return merged

    def resolve_parent(self, element: Element) -> dict[str, Any]:
        """The resolved definition of the element's parent ({} without one)."""
        parent = self.session.get(Element, element.parent_id) if element.parent_id else None
        return self.resolve(parent) if parent is not None else {}

    def is_outdated(self, element: Element) -> bool:
        """Whether the parent changed a key the element shadows since it was customized."""
        if not element.parent_id or element.base is None or not element.definition:
            return False
        latest = self.resolve_parent(element)
        return any(
            latest.get(key, ABSENT) != element.base.get(key, ABSENT) for key in element.definition
        )

    def _check(self, kind: ElementKind, definition: dict[str, Any]) -> None:
        problems = kind.validate(definition)
        if problems:
            raise validation_error(problems)

    # -- writes ---------------------------------------------------------------------

    def create(
        self,
        kind_name: str,
        key: str,
        name: str | None,
        definition: dict[str, Any],
        integration: Integration | None = None,
    ) -> Element:
        kind = kind_of(kind_name)
        parent = self._one(kind_name, key, UNIVERSAL) if integration is not None else None
        inherited = self.resolve(parent) if parent else {}
        self._check(kind, {**inherited, **definition})
        element = Element(
            kind=kind_name,
            key=key,
            name=name,
            scope=scope_of(integration.id if integration else None, None, None),
            integration_id=integration.id if integration else None,
            parent_id=parent.id if parent else None,
            definition=definition,
            base=_base_of(definition, inherited) if parent else None,
        )
        self.session.add(element)
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise conflict("element_exists", f"{kind_name} {key!r} already exists here") from exc
        return element

    def update(
        self,
        element: Element,
        changes: dict[str, Any],
        *,
        name: str | None = None,
        revision: int | None = None,
        customer: bool = False,
    ) -> Element:
        """Applies `changes` to the element's own definition (optimistic concurrency)."""
        _check_revision(element, revision)
        kind = kind_of(element.kind)
        if customer:
            self._check_customer_changes(kind, element, changes)
        definition = {**element.definition, **changes}
        parent_definition = self.resolve_parent(element)
        self._check(kind, {**parent_definition, **definition})
        # Keys customized for the first time start from the parent's value of now; an element
        # customized before bases were recorded stays without one (never outdated).
        if element.parent_id and (element.base is not None or not element.definition):
            new_keys = {k: v for k, v in changes.items() if k not in element.definition}
            element.base = {**(element.base or {}), **_base_of(new_keys, parent_definition)}
        element.definition = definition
        if name is not None:
            element.name = name
        element.is_customized = bool(element.parent_id) and bool(definition)
        element.revision += 1
        element.updated_at = utcnow()
        self.session.add(element)
        self.session.commit()
        return element

    def _check_customer_changes(
        self, kind: ElementKind, element: Element, changes: dict[str, Any]
    ) -> None:
        problems = [
            {"path": name, "message": "customers cannot change this field"}
            for name in changes
            if name not in kind.customizable
        ]
        resolved = self.resolve(element)
        for value_key, frozen_key in FROZEN.items():
            new_value = changes.get(value_key)
            if not isinstance(new_value, dict):
                continue
            current = resolved.get(value_key) or {}
            problems += [
                {"path": f"{value_key}.{field}", "message": "this field is frozen"}
                for field in resolved.get(frozen_key) or []
                if new_value.get(field) != current.get(field)
            ]
        if problems:
            raise validation_error(problems)

    def reset(self, element: Element) -> Element:
        """Drops the element's own changes so it follows its parent again."""
        if element.parent_id is None:
            raise OsmoError("bad_request", "nothing_to_reset", "This element has no parent layer")
        element.definition = {}
        element.base = None
        element.is_customized = False
        element.revision += 1
        element.updated_at = utcnow()
        self.session.add(element)
        self.session.commit()
        return element

    def update_to_latest(
        self, element: Element, revision: int | None = None
    ) -> tuple[Element, MergeReport]:
        """Takes the parent's latest version of every shadowed key, keeping the element's changes.

        Raises:
            OsmoError: 400 without a parent, 409 on a stale revision, 422 (nothing saved) when
                the merged definition is invalid.
        """
        if element.parent_id is None:
            raise OsmoError("bad_request", "no_parent_layer", "This element has no parent layer")
        _check_revision(element, revision)
        report = MergeReport()
        if not self.is_outdated(element):
            return element, report
        base = element.base or {}
        latest = self.resolve_parent(element)
        definition = {}
        for key, mine in element.definition.items():
            merged = merge_three_way(
                base.get(key, ABSENT), mine, latest.get(key, ABSENT), key, report
            )
            if merged is not ABSENT and merged != latest.get(key, ABSENT):
                definition[key] = merged
        problems = kind_of(element.kind).validate({**latest, **definition})
        if problems:
            invalid = validation_error(problems)
            raise OsmoError(
                invalid.type,
                invalid.key,
                f"Your changes do not fit the latest version ({invalid.message}); "
                "reset the element to take the latest version as it is",
                invalid.data,
                status=invalid.status,
            )
        element.definition = deepcopy(definition)  # parts of it are the parent's objects
        element.base = _base_of(definition, latest) if definition else None
        element.is_customized = bool(definition)
        element.revision += 1
        element.updated_at = utcnow()
        self.session.add(element)
        self.session.commit()
        return element, report

    def delete(self, element: Element) -> None:
        """Deletes the element and every element below it (its instances)."""
        children = self.session.exec(select(Element).where(Element.parent_id == element.id)).all()
        for child in children:
            self.delete(child)
        self.session.execute(delete(Element).where(Element.id == element.id))  # type: ignore[arg-type]
        self.session.commit()

    def instance(
        self, kind_name: str, key: str, connection: Connection, instance_key: str | None = None
    ) -> Element:
        """The connection's instance of an element, created on first use."""
        scope = scope_of(None, connection.id, instance_key)
        element = self._one(kind_name, key, scope)
        if element is not None:
            return element
        parent = self._one(kind_name, key, scope_of(connection.integration_id, None, None))
        parent = parent or self._one(kind_name, key, UNIVERSAL)
        if parent is None:
            raise not_found(kind_name.rstrip("s").replace("-", "_"), key)
        element = Element(
            kind=kind_name,
            key=key,
            name=parent.name,
            scope=scope,
            integration_id=connection.integration_id,
            connection_id=connection.id,
            instance_key=instance_key,
            parent_id=parent.id,
        )
        self.session.add(element)
        try:
            self.session.commit()
        except IntegrityError:
            self.session.rollback()  # created concurrently; use that one
            found = self._one(kind_name, key, scope)
            assert found is not None
            return found
        return element

    def delete_for_connection(self, connection_id: str) -> None:
        self.session.execute(delete(Element).where(Element.connection_id == connection_id))  # type: ignore[arg-type]
