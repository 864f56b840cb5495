"""Customers (admin): the product's tenants."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from api.deps import AdminDep, ServicesDep, SessionDep
from api.models.customers import CustomerCreate, CustomerPublic, CustomerUpdate
from api.models.errors import errors
from api.pagination import Page, paginate
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit
from core.connections import forget_connection
from core.errors import conflict, not_found
from core.models import Connection, ConnectSession, Customer, OAuthState, utcnow

router = APIRouter(prefix="/customers", tags=["customers"])


def _get(session: SessionDep, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        customer = session.exec(select(Customer).where(Customer.tenant_key == customer_id)).first()
    if customer is None:
        raise not_found("customer", customer_id)
    return customer


@router.get("", response_model=Page[CustomerPublic], responses=errors(400))
def list_customers(
    _: AdminDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    search: Key | None = None,
) -> Page[CustomerPublic]:
    statement = select(Customer)
    if search:
        statement = statement.where(Customer.tenant_key.contains(search))  # type: ignore[attr-defined,arg-type]
    rows, next_cursor = paginate(session, statement, Customer, cursor=cursor, limit=limit)
    return Page(items=[CustomerPublic.model_validate(r) for r in rows], cursor=next_cursor)


@router.post("", response_model=CustomerPublic, status_code=201, responses=errors(409))
def create_customer(_: AdminDep, session: SessionDep, body: CustomerCreate) -> Customer:
    customer = Customer(tenant_key=body.tenant_key, name=body.name, fields=body.fields)
    session.add(customer)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise conflict(
            "customer_exists", f"A customer with tenantKey {body.tenant_key!r} exists"
        ) from exc
    return customer


@router.get("/{customer_id}", response_model=CustomerPublic, responses=errors(404))
def get_customer(_: AdminDep, session: SessionDep, customer_id: str) -> Customer:
    return _get(session, customer_id)


@router.patch("/{customer_id}", response_model=CustomerPublic, responses=errors(404))
def update_customer(
    _: AdminDep, session: SessionDep, services: ServicesDep, customer_id: str, body: CustomerUpdate
) -> Customer:
    customer = _get(session, customer_id)
    tenant_key = customer.tenant_key
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(customer, field, value)
    customer.updated_at = utcnow()
    session.add(customer)
    session.commit()
    services.known_customers.forget(tenant_key)  # its tokens resolve to the new values
    return customer


@router.delete("/{customer_id}", status_code=204, responses=errors(404))
def delete_customer(
    _: AdminDep, session: SessionDep, services: ServicesDep, customer_id: str
) -> Response:
    """Deletes the customer with their connections, connect sessions and pending attempts."""
    customer = _get(session, customer_id)
    for connection in session.exec(
        select(Connection).where(Connection.customer_id == customer.id)
    ).all():
        forget_connection(session, connection)
    session.execute(delete(OAuthState).where(OAuthState.customer_id == customer.id))  # type: ignore[arg-type]
    session.execute(delete(ConnectSession).where(ConnectSession.customer_id == customer.id))  # type: ignore[arg-type]
    session.delete(customer)
    session.commit()
    services.known_customers.forget(customer.tenant_key)
    return Response(status_code=204)
