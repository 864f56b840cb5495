"""Resolving element instances into the immutable snapshots runs take as input.

A run never reads live configuration: the API resolves the connection's instance (its three
layers, the data sources and actions its nodes point at) once, here, and starts the workflow
with the result.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlmodel import Session

from core.elements.models import Element
from core.elements.snapshots import ActionSnapshot, FlowSnapshot
from core.elements.store import ElementStore
from core.errors import OsmoError
from core.models import Connection, Customer, Integration


def with_collection(
    store: ElementStore, connection: Connection, config: dict[str, Any]
) -> dict[str, Any]:
    """A node config with its `dataSourceKey` resolved into the connection's collection."""
    if not config.get("dataSourceKey") or "collectionKey" in config:
        return config
    source = store.resolve(store.instance("data-sources", config["dataSourceKey"], connection))
    return {
        **config,
        "collectionKey": source.get("collectionKey"),
        "parameters": config.get("parameters", source.get("parameters") or {}),
    }


def resolve_action(
    session: Session,
    store: ElementStore,
    connection: Connection,
    key: str,
    instance_key: str | None = None,
) -> ActionSnapshot:
    """The connection's instance of action `key` (404 if there is none), resolved.

    Raises:
        OsmoError: `action_not_found` when the connection has no such action.
    """
    instance = store.instance("actions", key, connection, instance_key)
    definition = store.resolve(instance)
    customer = session.get(Customer, connection.customer_id)
    integration = session.get(Integration, connection.integration_id)
    return ActionSnapshot(
        action_key=instance.key,
        action_instance_id=instance.id,
        type=definition["type"],
        config=with_collection(store, connection, dict(definition.get("config") or {})),
        input_schema=definition.get("inputSchema"),
        output_mapping=definition.get("outputMapping"),
        connection_id=connection.id,
        customer_id=connection.customer_id,
        tenant_key=customer.tenant_key if customer else None,
        integration_key=integration.key if integration else None,
        revision=instance.revision,
    )


def _resolve_node(
    session: Session,
    store: ElementStore,
    connection: Connection,
    key: str,
    node: dict[str, Any],
    config: dict[str, Any],
) -> dict[str, Any]:
    """A node's config with the elements it names resolved for the connection.

    Raises:
        OsmoError: 404 `data_source_not_found`, `action_not_found` or
            `data_link_table_not_found` naming the node (`data.nodeKey`) and the config field
            (`data.path`), before the run starts rather than when it reaches the node.
    """
    field = "dataSourceKey"
    try:
        config = with_collection(store, connection, config)
        if node.get("type") == "run-action":  # the run gets the action, not a key to it
            field = "actionKey"
            action = resolve_action(session, store, connection, config["actionKey"])
            config["action"] = asdict(action)
        if isinstance(config.get("dataLinkTable"), str):
            field = "dataLinkTable"
            store.instance("data-link-tables", config["dataLinkTable"], connection)
    except OsmoError as exc:
        if exc.status != 404:
            raise
        path = f"nodes.{key}.config.{field}"
        raise OsmoError(
            exc.type,
            exc.key,
            f"{path}: {exc.message}",
            {**exc.data, "nodeKey": key, "path": path},
            status=exc.status,
        ) from exc
    return config


def resolve_flow_instance(session: Session, store: ElementStore, instance: Element) -> FlowSnapshot:
    """Resolves the flow instance (its data sources and actions) into an immutable snapshot.

    Raises:
        OsmoError: `flow_disabled` when the instance is disabled; a 404 naming the node when
            an element a node names does not exist for the connection.
    """
    definition = store.resolve(instance)
    if not definition.get("enabled", True):
        raise OsmoError("bad_request", "flow_disabled", "This flow instance is disabled")
    connection = session.get(Connection, instance.connection_id) if instance.connection_id else None
    integration = (
        session.get(Integration, instance.integration_id) if instance.integration_id else None
    )
    customer = session.get(Customer, connection.customer_id) if connection else None
    nodes = {}
    for key, node in (definition.get("nodes") or {}).items():
        config = dict(node.get("config") or {})
        if connection is not None:
            config = _resolve_node(session, store, connection, key, node, config)
        nodes[key] = {**node, "config": config}
    return FlowSnapshot(
        flow_key=instance.key,
        flow_instance_id=instance.id,
        nodes=nodes,
        parameters=dict(definition.get("parameters") or {}),
        connection_id=connection.id if connection else None,
        customer_id=connection.customer_id if connection else None,
        integration_key=integration.key if integration else None,
        revision=instance.revision,
        tenant_key=customer.tenant_key if customer else None,
        max_parallel_runs=definition.get("maxParallelRuns"),
    )
