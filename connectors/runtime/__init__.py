"""The connector runtime: auth, requests, refresh, logging and error normalization."""

from connectors.runtime.client import ConnectorRuntime
from connectors.runtime.context import ApiCall, ApiLogSink, ConnectionContext, CredentialStore
from connectors.runtime.errors import ConnectorError
from connectors.runtime.oauth2 import OAuthGrantError, TokenSet
from connectors.runtime.sinks import DatabaseApiLogSink, MemoryApiLogSink

__all__ = [
    "ApiCall",
    "ApiLogSink",
    "ConnectionContext",
    "ConnectorError",
    "ConnectorRuntime",
    "CredentialStore",
    "DatabaseApiLogSink",
    "MemoryApiLogSink",
    "OAuthGrantError",
    "TokenSet",
]
