"""Fake CRM: an OAuth 2.0 authorization server plus a HubSpot-shaped contacts API.

`osmo dev` serves it as the demo app (`python -m demo.fake_crm --port 8001`), and the tests
use it as the fake of an OAuth 2.0 CRM (`tests.fakes.FakeCRM`). Its connector, `fake-crm`, is the
`connector.yaml` next to it (`osmo dev` adds `demo/` to the connector paths).
"""

from demo.fake_crm.app import FakeCRM, main
from demo.fake_crm.state import AccessToken, AuthCode, CRMUser, OAuthClient, RefreshToken

__all__ = ["AccessToken", "AuthCode", "CRMUser", "FakeCRM", "OAuthClient", "RefreshToken", "main"]
