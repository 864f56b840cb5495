"""The README's shell examples work as written against `make run`, which keeps running.

Every block fenced as ```` ```sh osmo-example ```` runs, in order and in one bash session (a
later block uses the variables an earlier one set), against a fresh stack started as `make run`
starts it (tests/dev_stack.py). The README shows the default ports, 8000 for the API and 8001
for the demo CRM; the test's stack runs on free ports, so those two are replaced in the text,
and nothing else is. Each `# → …` line states the output of the command before it: it must
appear in the block's output, whitespace aside, `…` standing for anything.

The same stack then shows `make run`'s supervision: a worker killed with SIGKILL comes back and
the stack keeps answering, the demo CRM killed keeps its contacts and tokens, and Ctrl-C stops
every process with exit status 0. One stack serves the module (starting one is most of the
time these tests take); the tests run in file order, the README's first, on fresh data.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from core.settings import ROOT, Settings
from core.tokens import mint_token
from tests.dev_stack import DevStack, dev_stack

README = ROOT / "README.md"
FENCE = re.compile(r"^```sh osmo-example\n(.*?)^```$", re.M | re.S)
EXPECTED = re.compile(r"^\s*#\s*→\s*(.*?)\s*(?:\s\s\(.*\))?$", re.M)
MARK = "::osmo-example::"


def examples(text: str) -> list[str]:
    """The marked shell blocks of a README, in order."""
    return FENCE.findall(text)


def expectations(block: str) -> list[str]:
    """The `# → …` outputs a block states."""
    return [found for found in EXPECTED.findall(block) if found]


def expectation_pattern(expected: str) -> re.Pattern[str]:
    """An expected output as a pattern over whitespace-free output; `…` matches anything."""
    parts = re.sub(r"\s+", "", expected).split("…")
    return re.compile(".*?".join(re.escape(part) for part in parts), re.S)


def unmet(block: str, output: str) -> list[str]:
    """The block's expected outputs that its output does not show, in order."""
    compact = re.sub(r"\s+", "", output)
    missing, position = [], 0
    for expected in expectations(block):
        found = expectation_pattern(expected).search(compact, position)
        if found is None:
            missing.append(expected)
        else:
            position = found.end()
    return missing


def on_ports(text: str, api_port: int, crm_port: int) -> str:
    """The README's text with the stack's ports for the default ones."""
    return text.replace("127.0.0.1:8000", f"127.0.0.1:{api_port}").replace(
        "127.0.0.1:8001", f"127.0.0.1:{crm_port}"
    )


def script(blocks: list[str]) -> str:
    """One bash script running the blocks in order, each output after a marker line."""
    lines = ["set -euo pipefail"]
    for block in blocks:
        lines += [f"echo '{MARK}'", block]
    return "\n".join(lines)


def test_the_readme_marks_its_runnable_examples() -> None:
    blocks = examples(README.read_text())
    assert len(blocks) >= 2, "README.md lost its ```sh osmo-example blocks"
    assert all(expectations(block) for block in blocks), "each example states what it prints"


def test_an_expected_output_must_appear_in_order() -> None:
    block = '# → {"key": "crm", …}\n# → {"id": "1026"}\n'
    assert unmet(block, '{"key":"crm","x":1}\n{"id":"1026"}') == []
    assert unmet(block, '{"id":"1026"} {"key":"crm","x":1}') == ['{"id": "1026"}']
    assert unmet(block, '{"key":"desk"}') == ['{"key": "crm", …}', '{"id": "1026"}']


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(tmp_path_factory.mktemp("make-run") / "data") as started:
        yield started


@pytest.mark.timeout(240)
def test_the_readme_examples_run_against_make_run(stack: DevStack) -> None:
    blocks = examples(on_ports(README.read_text(), stack.api_port, stack.crm_port))
    done = subprocess.run(
        ["bash", "-c", script(blocks)],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{stack.output()}"
    outputs = done.stdout.split(MARK + "\n")[1:]
    assert len(outputs) == len(blocks), done.stdout
    for block, output in zip(blocks, outputs, strict=True):
        assert unmet(block, output) == [], f"block:\n{block}\noutput:\n{output}\n{done.stderr}"


def token(tenant: str | None = None) -> str:
    """A token as `make token` mints it: the stack runs with this process's environment."""
    settings = Settings(_env_file=ROOT / ".env")
    return mint_token(
        settings.workspace_secret, settings.workspace_key, tenant_key=tenant, is_admin=not tenant
    )


def call(stack: DevStack, token: str, method: str, path: str, body: Any = None) -> Any:
    """An API call to the stack; its status and JSON body."""
    request = urllib.request.Request(
        stack.api_url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=130) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), f"pid {pid} still runs"


@pytest.mark.timeout(240)
def test_a_killed_worker_comes_back_and_the_stack_keeps_answering(stack: DevStack) -> None:
    admin, acme = token(), token("acme")
    status, _ = call(
        stack,
        admin,
        "POST",
        "/integrations",
        {
            "key": "server-crm",
            "connectorKey": "fake-crm",
            "clientId": "osmo-demo",
            "clientSecret": "osmo-demo-secret",
            "authOptions": ["client-credentials"],
            "parameters": {"baseUrl": stack.crm_url},
        },
    )
    assert status == 201
    status, connection = call(stack, acme, "POST", "/connections", {"integrationKey": "server-crm"})
    assert status == 201, connection
    status, _ = call(
        stack,
        admin,
        "POST",
        "/actions",
        {"key": "whoami", "type": "run-operation", "config": {"operationKey": "get-current-user"}},
    )
    assert status == 201

    worker, mark = stack.pid("worker"), len(stack.lines)
    os.kill(worker, signal.SIGKILL)
    stack.wait_for(
        rf"osmo dev: worker \(pid {worker}\) was killed by SIGKILL; restarting", 10, mark
    )
    # The API answers while the worker is down...
    assert call(stack, acme, "GET", f"/connections/{connection['id']}")[0] == 200
    stack.wait_for(r"osmo dev: worker restarted \(pid \d+\)", 30, mark)
    assert stack.pid("worker", mark) != worker
    # ...and an action, which only a worker runs, completes once it is back.
    status, run = call(
        stack, acme, "POST", f"/connections/{connection['id']}/actions/whoami/run", {"input": {}}
    )
    assert status == 200, run
    assert run["output"]["id"] == "client:osmo-demo"


@pytest.mark.timeout(120)
def test_the_demo_crm_keeps_its_data_across_a_restart(stack: DevStack) -> None:
    acme = token("acme")
    status, page = call(stack, acme, "GET", "/connections?integrationKey=server-crm")
    assert status == 200 and page["items"], page
    proxy = f"/connections/{page['items'][0]['id']}/proxy/api/v1/contacts"
    status, created = call(
        stack, acme, "POST", proxy, {"properties": {"email": "kept@example.com"}}
    )
    assert status == 201, created

    crm, mark = stack.pid("demo-crm"), len(stack.lines)
    os.kill(crm, signal.SIGKILL)
    stack.wait_for(r"osmo dev: demo-crm restarted", 30, mark)
    deadline = time.monotonic() + 30
    while (status := call(stack, acme, "GET", f"{proxy}/{created['id']}")[0]) == 502:
        assert time.monotonic() < deadline, "the demo CRM did not come back"
        time.sleep(0.2)
    # The contact survived (tests/test_dev.py checks the tokens do too).
    assert status == 200
    assert (stack.data_dir / "demo-crm.json").exists()


def until_ok(stack: DevStack, token: str, method: str, path: str, body: Any = None) -> Any:
    """The call's body once it answers 2xx (within 60 s: a process is coming back)."""
    deadline = time.monotonic() + 60
    while not 200 <= (answer := call(stack, token, method, path, body))[0] < 300:
        assert time.monotonic() < deadline, answer
        time.sleep(1)
    return answer[1]


@pytest.mark.timeout(180)
def test_a_killed_temporal_server_comes_back_with_its_runs(stack: DevStack) -> None:
    acme = token("acme")
    status, page = call(stack, acme, "GET", "/connections?integrationKey=server-crm")
    assert status == 200 and page["items"], page
    connection = page["items"][0]["id"]
    # The flow `make run` seeded, run on this connection.
    status, run = call(
        stack, acme, "POST", f"/connections/{connection}/flows/contact-emails/run", {}
    )
    assert status == 201, run

    temporal, mark = stack.pid("temporal"), len(stack.lines)
    os.kill(temporal, signal.SIGKILL)
    stack.wait_for(r"osmo dev: temporal restarted", 30, mark)
    # Its database file kept the run; the worker and the API reconnect by themselves.
    assert until_ok(stack, acme, "GET", f"/flow-runs/{run['id']}")["id"] == run["id"]
    output = until_ok(stack, acme, "POST", f"/connections/{connection}/actions/whoami/run", {})
    assert output["output"]["id"] == "client:osmo-demo"


@pytest.mark.timeout(120)
def test_ctrl_c_stops_every_process_and_exits_0(stack: DevStack) -> None:
    """Last in the module: it stops the stack."""
    children = [stack.pid(name) for name in ("temporal", "demo-crm", "worker", "api")]
    assert stack.stop() == 0, stack.output()
    for pid in children:
        wait_until_gone(pid)
    assert "restarting" not in "\n".join(stack.lines[-20:]), "a stopping child was restarted"
