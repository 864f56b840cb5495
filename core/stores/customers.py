"""Customers are created on first use of a token and follow its name and fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.models import Customer, utcnow


def upsert_customer(
    session: Session, tenant_key: str, name: str | None, fields: dict[str, Any] | None
) -> Customer:
    """The customer with `tenant_key`, created or updated from the token's claims."""
    customer = session.exec(select(Customer).where(Customer.tenant_key == tenant_key)).first()
    if customer is None:
        customer = Customer(tenant_key=tenant_key, name=name, fields=fields or {})
        session.add(customer)
        try:
            session.commit()
        except IntegrityError:
            # Another request created it first; use theirs.
            session.rollback()
            return upsert_customer(session, tenant_key, name, fields)
        return customer
    changed = False
    if name is not None and name != customer.name:
        customer.name, changed = name, True
    if fields and fields != customer.fields:
        customer.fields, changed = dict(fields), True
    if changed:
        customer.updated_at = utcnow()
        session.add(customer)
        session.commit()
    return customer
