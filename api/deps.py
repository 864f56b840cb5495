"""Request dependencies: services, database session, and who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from api.services import Services
from core.errors import OsmoError
from core.models import Customer
from core.stores.customers import upsert_customer
from core.tokens import TokenClaims, verify_token


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with Session(services.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: an admin, a customer, or both."""

    claims: TokenClaims
    customer: Customer | None

    @property
    def is_admin(self) -> bool:
        return self.claims.is_admin

    @property
    def customer_id(self) -> str | None:
        return self.customer.id if self.customer else None

    def can_see(self, customer_id: str | None) -> bool:
        return self.is_admin or (customer_id is not None and customer_id == self.customer_id)


def authenticate(token: str, services: Services, session: Session) -> Caller:
    settings = services.settings
    claims = verify_token(token, settings.workspace_secret, settings.workspace_key)
    customer = None
    if claims.tenant_key:
        customer = upsert_customer(session, claims.tenant_key, claims.name, claims.fields)
    return Caller(claims, customer)


def get_caller(request: Request, services: ServicesDep, session: SessionDep) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OsmoError(
            "auth", "not_authenticated", "Send `Authorization: Bearer <token>`", status=401
        )
    caller = authenticate(token.strip(), services, session)
    # End the read transaction so no pooled connection is held while the route awaits I/O.
    session.commit()
    if not caller.is_admin and caller.customer is None:
        raise OsmoError(
            "auth",
            "forbidden",
            "This token has neither a tenantKey nor isAdmin, so it can do nothing",
            status=403,
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_admin(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        raise OsmoError("auth", "forbidden", "This route needs an admin token", status=403)
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]
