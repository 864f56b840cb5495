"""Vendor-shaped webhook registration APIs, and deliveries signed the way each vendor signs.

Each fake answers the registration endpoints of one vendor as its documentation describes
them, keeps what was registered, and can send a delivery to a registered URL, signed per the
vendor's documentation (written here from those documents, not from Osmo's verifier):

- GitHub: `POST/DELETE /repos/{owner}/{repo}/hooks[/{id}]` (REST "Repository webhooks");
  deliveries carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`,
  `X-GitHub-Event`, `X-GitHub-Delivery`.
- Asana: `POST /api/1.0/webhooks` (`{data: {resource, target}}`); while the POST is in flight
  the fake POSTs the handshake to the target with `X-Hook-Secret` and refuses the creation
  unless the target echoes it; deliveries carry `X-Hook-Signature: <hex HMAC-SHA256(secret,
  body)>`. `DELETE /api/1.0/webhooks/{gid}`.
- Pipedrive: `POST /api/v1/webhooks` (`subscription_url`, `event_action`, `event_object`,
  `http_auth_user`, `http_auth_password`), `DELETE /api/v1/webhooks/{id}`; deliveries carry
  HTTP basic auth with those credentials.
- Trello: `POST /1/webhooks?callbackURL&idModel` after a `HEAD` of the callback URL that must
  answer 200, `DELETE /1/webhooks/{id}`; deliveries carry `X-Trello-Webhook:
  base64(HMAC-SHA1(app secret, body + callbackURL))`.
- Stripe: `POST /v1/webhook_endpoints` (form: `url`, `enabled_events[]`) answering the
  endpoint with its `secret` (`whsec_...`), `DELETE /v1/webhook_endpoints/{id}`; deliveries
  carry `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>`.
- Jira Cloud: `POST /ex/jira/{cloudId}/rest/api/3/webhook` (dynamic webhooks, OAuth 2.0 and
  Connect apps only: basic auth is refused with 403), `PUT .../webhook/refresh`
  (`expirationDate`, 30 days on), `DELETE .../webhook` (`{webhookIds}`). This fake sends no
  deliveries (Jira signs dynamic webhook deliveries with a JWT keyed with the app's client
  secret; the webhook tests cover that scheme).

`VendorTransport` sends the connector runtime's requests for the vendors' real hosts to the
fakes on loopback (real HTTP, real sockets).
"""

from __future__ import annotations

import abc
import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

_ids = itertools.count(1000)


@dataclass
class Hook:
    """One registration a fake holds."""

    id: str
    url: str
    secret: str | None = None
    events: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


def _json_body(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


class Vendor(abc.ABC):
    """A vendor fake: an ASGI `app`, the `hooks` registered, `requests` received."""

    host: str = ""

    def __init__(self) -> None:
        self.hooks: dict[str, Hook] = {}
        self.deleted: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.fail_next: list[tuple[int, Any]] = []
        """(status, body) answers given to the next registration requests instead."""
        self.app = FastAPI()

        @self.app.middleware("http")
        async def remember(request: Request, call_next: Any) -> Response:
            self.requests.append((request.method, request.url.path))
            response: Response = await call_next(request)
            return response

        self.routes()

    @abc.abstractmethod
    def routes(self) -> None:
        """Adds the vendor's webhook registration endpoints to `self.app`."""

    def failing(self) -> Response | None:
        if self.fail_next:
            status, body = self.fail_next.pop(0)
            return JSONResponse(body, status_code=status)
        return None

    def only_hook(self) -> Hook:
        assert len(self.hooks) == 1, self.hooks
        return next(iter(self.hooks.values()))

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(url, content=body, headers=headers)


class GitHub(Vendor):
    host = "api.github.com"

    def routes(self) -> None:
        app = self.app

        @app.post("/repos/{owner}/{repo}/hooks", status_code=201)
        async def create(owner: str, repo: str, request: Request) -> Response:
            failed = self.failing()
            if failed is not None:
                return failed
            body = _json_body(await request.body())
            config = body.get("config") or {}
            if not str(config.get("url", "")).startswith("http"):
                return JSONResponse(
                    {"message": "Validation Failed", "errors": [{"field": "url"}]}, 422
                )
            hook = Hook(
                str(next(_ids)),
                config["url"],
                config.get("secret"),
                list(body.get("events") or ["push"]),
                {"repo": f"{owner}/{repo}", "content_type": config.get("content_type")},
            )
            self.hooks[hook.id] = hook
            return JSONResponse(
                {
                    "type": "Repository",
                    "id": int(hook.id),
                    "name": "web",
                    "active": body.get("active", True),
                    "events": hook.events,
                    "config": {"url": hook.url, "content_type": "json", "insecure_ssl": "0"},
                    "url": f"https://api.github.com/repos/{owner}/{repo}/hooks/{hook.id}",
                },
                status_code=201,
            )

        @app.delete("/repos/{owner}/{repo}/hooks/{hook_id}")
        async def delete(owner: str, repo: str, hook_id: str) -> Response:
            if self.hooks.pop(hook_id, None) is None:
                return JSONResponse({"message": "Not Found"}, 404)
            self.deleted.append(hook_id)
            return Response(status_code=204)

    async def deliver(self, hook: Hook, event: str, payload: Any) -> httpx.Response:
        body = json.dumps(payload).encode()
        digest = hmac.new((hook.secret or "").encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": hook.id,
            "X-Hub-Signature-256": f"sha256={digest}",
        }
        return await self.post(hook.url, body, headers)


class Asana(Vendor):
    host = "app.asana.com"

    def routes(self) -> None:
        app = self.app

        @app.post("/api/1.0/webhooks", status_code=201)
        async def create(request: Request) -> Response:
            failed = self.failing()
            if failed is not None:
                return failed
            data = (_json_body(await request.body()) or {}).get("data") or {}
            target, resource = data.get("target"), data.get("resource")
            if not target or not resource:
                return JSONResponse({"errors": [{"message": "resource: Missing input"}]}, 400)
            # The handshake, made while the creation request waits (as Asana does).
            secret = secrets.token_hex(32)
            try:
                answer = await self.post(target, b"", {"X-Hook-Secret": secret})
            except httpx.HTTPError as exc:
                return JSONResponse({"errors": [{"message": f"handshake failed: {exc}"}]}, 400)
            if answer.status_code not in (200, 204) or answer.headers.get("X-Hook-Secret") != (
                secret
            ):
                return JSONResponse(
                    {"errors": [{"message": "Could not complete activation handshake"}]}, 400
                )
            hook = Hook(str(next(_ids)), target, secret, [], {"resource": resource})
            hook.detail["filters"] = data.get("filters")
            self.hooks[hook.id] = hook
            return JSONResponse(
                {
                    "data": {
                        "gid": hook.id,
                        "resource_type": "webhook",
                        "resource": {"gid": resource, "resource_type": "project"},
                        "target": target,
                        "active": True,
                        "filters": data.get("filters") or [],
                    }
                },
                status_code=201,
            )

        @app.delete("/api/1.0/webhooks/{gid}")
        async def delete(gid: str) -> Response:
            if self.hooks.pop(gid, None) is None:
                return JSONResponse({"errors": [{"message": "webhook: Unknown object"}]}, 404)
            self.deleted.append(gid)
            return JSONResponse({"data": {}})

    async def deliver(self, hook: Hook, events: list[Any]) -> httpx.Response:
        body = json.dumps({"events": events}).encode()
        signature = hmac.new((hook.secret or "").encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hook-Signature": signature}
        return await self.post(hook.url, body, headers)


class Pipedrive(Vendor):
    host = "pipedrive.com"  # any company subdomain

    def routes(self) -> None:
        app = self.app

        @app.post("/api/v1/webhooks", status_code=201)
        async def create(request: Request) -> Response:
            failed = self.failing()
            if failed is not None:
                return failed
            body = _json_body(await request.body()) or {}
            missing = [
                name
                for name in ("subscription_url", "event_action", "event_object")
                if not body.get(name)
            ]
            if missing:
                return JSONResponse(
                    {"success": False, "error": f"Missing {', '.join(missing)}"}, 400
                )
            hook = Hook(
                str(next(_ids)),
                body["subscription_url"],
                None,
                [f"{body['event_action']}.{body['event_object']}"],
                {
                    "user": body.get("http_auth_user"),
                    "password": body.get("http_auth_password"),
                    "version": body.get("version", "1.0"),
                },
            )
            self.hooks[hook.id] = hook
            return JSONResponse(
                {
                    "success": True,
                    "data": {
                        "id": int(hook.id),
                        "subscription_url": hook.url,
                        "event_action": body["event_action"],
                        "event_object": body["event_object"],
                        "is_active": 1,
                        "version": hook.detail["version"],
                        "http_auth_user": hook.detail["user"],
                        "http_auth_password": hook.detail["password"],
                    },
                },
                status_code=201,
            )

        @app.delete("/api/v1/webhooks/{hook_id}")
        async def delete(hook_id: str) -> Response:
            if self.hooks.pop(hook_id, None) is None:
                return JSONResponse({"success": False, "error": "Webhook not found"}, 404)
            self.deleted.append(hook_id)
            return JSONResponse({"success": True, "data": {"id": int(hook_id)}})

    async def deliver(self, hook: Hook, payload: Any) -> httpx.Response:
        body = json.dumps(payload).encode()
        user, password = hook.detail.get("user") or "", hook.detail.get("password") or ""
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
        return await self.post(hook.url, body, headers)


class Trello(Vendor):
    host = "api.trello.com"

    def __init__(self, app_secret: str = "trello-app-secret") -> None:
        self.app_secret = app_secret
        super().__init__()

    def routes(self) -> None:
        app = self.app

        @app.post("/1/webhooks")
        async def create(request: Request) -> Response:
            failed = self.failing()
            if failed is not None:
                return failed
            params = dict(request.query_params)
            if request.headers.get("content-type", "").startswith("application/json"):
                params.update(_json_body(await request.body()) or {})
            callback, model = params.get("callbackURL"), params.get("idModel")
            if not callback or not model:
                return Response("invalid value for callbackURL or idModel", 400)
            # Trello checks the callback URL with a HEAD request before creating the webhook.
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    check = await client.head(callback)
            except httpx.HTTPError:
                check = None
            if check is None or check.status_code != 200:
                return Response(
                    "URL ("
                    + callback
                    + ") did not return 200 status code, got "
                    + (str(check.status_code) if check is not None else "no answer"),
                    400,
                )
            hook = Hook(uuid.uuid4().hex[:24], callback, None, [], {"idModel": model})
            self.hooks[hook.id] = hook
            return JSONResponse(
                {
                    "id": hook.id,
                    "description": params.get("description", ""),
                    "idModel": model,
                    "callbackURL": callback,
                    "active": True,
                    "consecutiveFailures": 0,
                    "firstConsecutiveFailDate": None,
                }
            )

        @app.delete("/1/webhooks/{hook_id}")
        async def delete(hook_id: str) -> Response:
            if self.hooks.pop(hook_id, None) is None:
                return Response("The requested resource was not found.", 404)
            self.deleted.append(hook_id)
            return JSONResponse({"_value": None})

    async def deliver(self, hook: Hook, payload: Any) -> httpx.Response:
        body = json.dumps(payload).encode()
        mac = hmac.new(self.app_secret.encode(), body + hook.url.encode(), hashlib.sha1)
        headers = {
            "Content-Type": "application/json",
            "X-Trello-Webhook": base64.b64encode(mac.digest()).decode(),
        }
        return await self.post(hook.url, body, headers)


class Stripe(Vendor):
    host = "api.stripe.com"

    def routes(self) -> None:
        app = self.app

        @app.post("/v1/webhook_endpoints")
        async def create(request: Request) -> Response:
            failed = self.failing()
            if failed is not None:
                return failed
            form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
            url = next((v for k, v in form if k == "url"), None)
            events = [v for k, v in form if k.startswith("enabled_events[")]
            if not url or not events:
                missing = "url" if not url else "enabled_events"
                return JSONResponse(
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "parameter_missing",
                            "param": missing,
                            "message": f"Missing required param: {missing}.",
                        }
                    },
                    400,
                )
            hook = Hook(f"we_{uuid.uuid4().hex[:24]}", url, f"whsec_{secrets.token_hex(16)}")
            hook.events = events
            self.hooks[hook.id] = hook
            return JSONResponse(
                {
                    "id": hook.id,
                    "object": "webhook_endpoint",
                    "api_version": None,
                    "created": int(time.time()),
                    "description": next((v for k, v in form if k == "description"), None),
                    "enabled_events": events,
                    "livemode": False,
                    "metadata": {
                        k[len("metadata[") : -1]: v for k, v in form if k.startswith("metadata[")
                    },
                    "secret": hook.secret,
                    "status": "enabled",
                    "url": url,
                }
            )

        @app.delete("/v1/webhook_endpoints/{hook_id}")
        async def delete(hook_id: str) -> Response:
            if self.hooks.pop(hook_id, None) is None:
                return JSONResponse(
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "resource_missing",
                            "message": f"No such webhook endpoint: '{hook_id}'",
                        }
                    },
                    404,
                )
            self.deleted.append(hook_id)
            return JSONResponse({"id": hook_id, "object": "webhook_endpoint", "deleted": True})

    async def deliver(self, hook: Hook, event: Any, timestamp: int | None = None) -> httpx.Response:
        body = json.dumps(event).encode()
        t = int(time.time()) if timestamp is None else timestamp
        signed = f"{t}.".encode() + body
        v1 = hmac.new((hook.secret or "").encode(), signed, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={v1}"}
        return await self.post(hook.url, body, headers)


class Jira(Vendor):
    host = "api.atlassian.com"
    LIFETIME = timedelta(days=30)

    def routes(self) -> None:
        app = self.app
        base = "/ex/jira/{cloud_id}/rest/api/3/webhook"

        def refused(request: Request) -> Response | None:
            # "Only Connect and OAuth 2.0 apps can use this operation" (not basic auth).
            if not request.headers.get("Authorization", "").startswith("Bearer "):
                return JSONResponse(
                    {"errorMessages": ["Only Connect and OAuth 2.0 apps can use webhooks."]},
                    403,
                )
            return None

        @app.post(base)
        async def create(cloud_id: str, request: Request) -> Response:
            failed = refused(request) or self.failing()
            if failed is not None:
                return failed
            body = _json_body(await request.body()) or {}
            results: list[dict[str, Any]] = []
            for webhook in body.get("webhooks") or []:
                events = list(webhook.get("events") or [])
                if any(e.startswith("jira:issue") for e in events) and not webhook.get("jqlFilter"):
                    results.append({"errors": ["JQL filter is required for issue events"]})
                    continue
                hook = Hook(str(next(_ids)), body.get("url", ""), None, events, dict(webhook))
                hook.expires_at = datetime.now(UTC) + self.LIFETIME
                self.hooks[hook.id] = hook
                results.append({"createdWebhookId": int(hook.id)})
            return JSONResponse({"webhookRegistrationResult": results})

        @app.put(base + "/refresh")
        async def refresh(cloud_id: str, request: Request) -> Response:
            failed = refused(request)
            if failed is not None:
                return failed
            ids = [str(i) for i in (_json_body(await request.body()) or {}).get("webhookIds", [])]
            expires = datetime.now(UTC) + self.LIFETIME
            for hook_id in ids:
                if hook_id in self.hooks:
                    self.hooks[hook_id].expires_at = expires
            # Jira's format: 2019-06-01T12:42:30.000+0000
            return JSONResponse({"expirationDate": expires.strftime("%Y-%m-%dT%H:%M:%S.000+0000")})

        @app.delete(base)
        async def delete(cloud_id: str, request: Request) -> Response:
            failed = refused(request)
            if failed is not None:
                return failed
            ids = [str(i) for i in (_json_body(await request.body()) or {}).get("webhookIds", [])]
            for hook_id in ids:
                if self.hooks.pop(hook_id, None) is not None:
                    self.deleted.append(hook_id)
            return Response(status_code=202)


class VendorTransport(httpx.AsyncBaseTransport):
    """Sends requests for each vendor's real host (or a subdomain of it) to its fake."""

    def __init__(self, fakes: dict[str, str]) -> None:
        """`fakes`: vendor host → the fake's loopback base URL."""
        self.fakes = fakes
        self.inner = httpx.AsyncHTTPTransport()

    def _target(self, host: str) -> str | None:
        for vendor_host, base in self.fakes.items():
            if host == vendor_host or host.endswith("." + vendor_host):
                return base
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        base = self._target(request.url.host)
        if base is None:
            return httpx.Response(599, json={"error": f"no fake for {request.url.host}"})
        fake = httpx.URL(base)
        request.url = request.url.copy_with(scheme=fake.scheme, host=fake.host, port=fake.port)
        request.headers["Host"] = f"{fake.host}:{fake.port}"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Receiver:
    """Stands in for Osmo's webhook ingress at `/webhooks/subscriptions/{id}` in these tests:
    answers Trello's `HEAD` check, echoes Asana's `X-Hook-Secret` handshake (handing the
    secret to `on_handshake`, as the ingress stores it on the subscription), and keeps every
    delivery (`deliveries`: subscription id, headers, body)."""

    def __init__(self) -> None:
        self.handshakes: dict[str, str] = {}
        self.heads: list[str] = []
        self.deliveries: list[tuple[str, dict[str, str], bytes]] = []
        self.refuse_handshakes = False
        self.on_handshake: Any = None
        self.app = FastAPI()

        @self.app.head("/webhooks/subscriptions/{subscription_id}")
        async def head(subscription_id: str) -> Response:
            self.heads.append(subscription_id)
            return Response(status_code=200)

        @self.app.post("/webhooks/subscriptions/{subscription_id}")
        async def post(subscription_id: str, request: Request) -> Response:
            secret = request.headers.get("X-Hook-Secret")
            if secret is not None:
                if self.refuse_handshakes:
                    return Response(status_code=403)
                self.handshakes[subscription_id] = secret
                if self.on_handshake is not None:
                    self.on_handshake(subscription_id, secret)
                return Response(status_code=200, headers={"X-Hook-Secret": secret})
            self.deliveries.append((subscription_id, dict(request.headers), await request.body()))
            return Response(status_code=200)
