"""Stripe's form encoding of request bodies, which the YAML mappings cannot express.

Stripe takes `application/x-www-form-urlencoded` bodies whose nested values use brackets:
`metadata[order_id]=6735`, `line_items[0][price]=price_123`. The connector's mappings build
bodies as JSON objects; `prepare_request` flattens them into those form fields.
"""

from __future__ import annotations

from typing import Any

from connectors.runtime.components import Components
from connectors.runtime.mapping import RenderedRequest


def form_fields(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Stripe form fields of a JSON value; None and empty objects or lists send nothing.

    An empty string is kept: it is how Stripe unsets a field (`metadata[plan]=`).
    """
    if isinstance(value, dict):
        return [
            pair
            for key, item in value.items()
            for pair in form_fields(item, f"{prefix}[{key}]" if prefix else str(key))
        ]
    if isinstance(value, list):
        return [
            pair
            for index, item in enumerate(value)
            for pair in form_fields(item, f"{prefix}[{index}]")
        ]
    if value is None:
        return []
    if isinstance(value, bool):
        return [(prefix, "true" if value else "false")]
    return [(prefix, str(value))]


class StripeComponents(Components):
    """Sends every JSON body the connector builds as Stripe's bracketed form encoding."""

    def prepare_request(
        self, request: RenderedRequest, variables: dict[str, Any]
    ) -> RenderedRequest:
        if request.json is not None:
            request.data = dict(form_fields(request.json))
            request.json = None
        return request
