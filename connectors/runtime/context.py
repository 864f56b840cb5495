"""What one call needs to know about its connection, and the ports the runtime writes to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from connectors.runtime.redaction import Redactor, secret_values
from connectors.spec import AuthOption, ConnectorSpec
from core.models import ApiCallState, new_id
from core.stores.connections import CredentialsSnapshot, StoredConnection


@dataclass
class ConnectionContext:
    """A connection (or a connection being created) with its connector resolved.

    `connection_id` is None while the connect page is still testing new credentials.
    """

    connector: ConnectorSpec
    auth: AuthOption
    customer_id: str | None
    integration_key: str
    client_id: str | None
    client_secret: str | None
    integration_parameters: dict[str, Any]
    scopes: list[str]
    inputs: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)
    credentials_version: int = 0
    token_expires_at: datetime | None = None
    connection_id: str | None = None
    # `connected`, `disconnected` or `error` as last read from the store (None while connecting).
    state: str | None = None
    _redactor: tuple[Any, Redactor] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_stored(
        cls, stored: StoredConnection, connector: ConnectorSpec, auth: AuthOption
    ) -> ConnectionContext:
        return cls(
            connector=connector,
            auth=auth,
            customer_id=stored.customer_id,
            integration_key=stored.integration_key,
            client_id=stored.client_id,
            client_secret=stored.client_secret,
            integration_parameters=stored.integration_parameters,
            scopes=stored.scopes,
            inputs=stored.inputs,
            credentials=stored.credentials,
            credentials_version=stored.credentials_version,
            token_expires_at=stored.token_expires_at,
            connection_id=stored.id,
            state=stored.state,
        )

    def apply_snapshot(self, snapshot: CredentialsSnapshot) -> None:
        self.credentials = snapshot.credentials
        self.credentials_version = snapshot.version
        self.token_expires_at = snapshot.expires_at
        self.state = snapshot.state

    def template_context(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "credentials": self.credentials,
            "integration": {"clientId": self.client_id, "parameters": self.integration_parameters},
            "connection": {"id": self.connection_id},
        }

    def redactor(self) -> Redactor:
        """A redactor for this connection's secrets (rebuilt only when they change)."""
        key = (self.credentials_version, id(self.credentials), id(self.inputs))
        if self._redactor is None or self._redactor[0] != key:
            secrets = secret_values(self.credentials, self.inputs, self.client_secret)
            self._redactor = (key, Redactor(secrets))
        return self._redactor[1]


@dataclass
class ApiCall:
    """One request to an external app, already redacted, ready to be logged.

    A request that may change something is logged `pending` before it is sent and updated
    when it ends (same `id`), so one that reached the app is in the log even if the process
    died before the answer.
    """

    method: str
    url: str
    status: int | None
    success: bool
    duration_ms: float
    request_size: int
    response_size: int
    request_headers: dict[str, str]
    request_body: str | None
    response_body: str | None
    customer_id: str | None = None
    connection_id: str | None = None
    integration_key: str | None = None
    error_key: str | None = None
    error_message: str | None = None
    state: ApiCallState = ApiCallState.completed
    id: str = field(default_factory=new_id)


class ApiLogSink(Protocol):
    """Where the runtime reports each external call."""

    def record(self, call: ApiCall) -> None:
        """Adds `call` to the log (a pending one, or one that has ended)."""

    def update(self, call: ApiCall) -> None:
        """Replaces the entry recorded with `call.id` by `call` (the call has ended)."""


class CredentialStore(Protocol):
    """Persistence the runtime needs to refresh credentials safely across processes."""

    def load_credentials(self, connection_id: str) -> CredentialsSnapshot: ...

    def save_credentials(
        self, connection_id: str, credentials: dict[str, Any], expires_at: datetime | None
    ) -> int: ...

    def mark_state(
        self, connection_id: str, state: Any, reason: str | None = None, message: str | None = None
    ) -> None: ...

    def try_lock(self, connection_id: str, holder: str, ttl_seconds: float) -> bool: ...

    def unlock(self, connection_id: str, holder: str) -> None: ...

    def take_budget(self, connection_id: str, window: int, limit: int) -> bool: ...
