"""The production deployment: Dockerfile, .dockerignore, docker-compose.yml and deploy/.

Static checks, no Docker daemon needed: docker-compose.yml is parsed with PyYAML (anchors
included) and checked against Osmo itself (its settings, its search attributes), and the
Dockerfile is read instruction by instruction. When a Docker Compose v2 CLI is installed,
`docker compose config` validates the file as well.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url
from temporalio.common import SearchAttributeIndexedValueType

from core.crypto import generate_key
from core.settings import Settings
from workflows import search_attributes

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY = ROOT / "deploy"

API, WORKER = "osmo-api", "osmo-worker"
SEARCH_ATTRIBUTES = "temporal-search-attributes"
STACK = {"postgresql", "temporal", "temporal-ui", SEARCH_ATTRIBUTES, API, WORKER}
REQUIRED_SECRETS = (
    "OSMO_WORKSPACE_SECRET",
    "OSMO_ENCRYPTION_KEYS",
    "OSMO_ALLOWED_REDIRECT_ORIGINS",
    "OSMO_PUBLIC_URL",
)
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
SETTINGS_VARIABLES = {f"OSMO_{name.upper()}" for name in Settings.model_fields}

# Compose interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
# ${VAR?error}, ${VAR:+replacement}, ${VAR+replacement}.
INTERPOLATION = re.compile(
    r"\$(?:\$|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)


class MissingVariable(LookupError):
    """A `${VAR:?message}` whose variable is unset: compose refuses to start."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable interpolation, applied to every string of a parsed file."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op") or "", match.group("arg") or ""
        is_set = bool(env.get(name)) if op.startswith(":") else name in env
        if op.endswith("-"):
            return env[name] if is_set else arg
        if op.endswith("?"):
            if not is_set:
                raise MissingVariable(f"{name}: {arg}")
            return env[name]
        if op.endswith("+"):
            return arg if is_set else ""
        return env.get(name, "")

    return INTERPOLATION.sub(replace, value)


def referenced_variables(text: str) -> dict[str, set[str]]:
    """Variable name -> the interpolation operators it is used with ("" for plain)."""
    found: dict[str, set[str]] = {}
    for match in INTERPOLATION.finditer(text):
        name = match.group("name") or match.group("bare")
        if name:
            found.setdefault(name, set()).add(match.group("op") or "")
    return found


def sample_env(text: str) -> dict[str, str]:
    """Production-like values for every variable the compose file reads."""
    values = {
        "OSMO_WORKSPACE_SECRET": "deployment-test-secret-" + "0123456789abcdef" * 4,
        "OSMO_ENCRYPTION_KEYS": f"k1:{generate_key()}",
        "OSMO_ALLOWED_REDIRECT_ORIGINS": "https://app.example.com",
        "OSMO_PUBLIC_URL": "https://osmo.example.com",
    }
    return {
        name: values.get(name, f"{name.lower()}-0123456789abcdef")
        for name in referenced_variables(text)
    }


def env_of(service: Mapping[str, Any]) -> dict[str, str | None]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.partition("=") for item in environment)
        return {key: (value if sep else None) for key, sep, value in pairs}
    return {key: None if value is None else str(value) for key, value in environment.items()}


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """Dependency -> condition (the short list form means `service_started`)."""
    dependencies = service.get("depends_on") or {}
    if isinstance(dependencies, list):
        return dict.fromkeys(dependencies, "service_started")
    return {
        name: (spec or {}).get("condition", "service_started")
        for name, spec in dependencies.items()
    }


def volumes_of(service: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(type, source, target) of each volume: type is `bind` or `volume`."""
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            yield volume.get("type", "volume"), volume.get("source", ""), volume["target"]
            continue
        source, _, rest = volume.partition(":")
        if not rest:  # anonymous volume: `- /container/path`
            continue
        target = rest.split(":", 1)[0]
        kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        yield kind, source, target


def bind_sources(service: Mapping[str, Any]) -> dict[str, Path]:
    """Container path -> local path of each bind mount."""
    return {
        target: (ROOT / source).resolve()
        for kind, source, target in volumes_of(service)
        if kind == "bind"
    }


def build_context(service: Mapping[str, Any]) -> Path | None:
    build = service.get("build")
    if build is None:
        return None
    context = build if isinstance(build, str) else build.get("context", ".")
    return (ROOT / context).resolve()


def has_healthcheck(service: Mapping[str, Any]) -> bool:
    healthcheck = service.get("healthcheck")
    if healthcheck:
        return not healthcheck.get("disable") and bool(healthcheck.get("test"))
    # A service built from this repo inherits the Dockerfile's HEALTHCHECK.
    return build_context(service) == ROOT and any(
        keyword == "HEALTHCHECK" and not args.upper().startswith("NONE")
        for keyword, args in final_stage(dockerfile_instructions())
    )


def command_text(value: str | list[str] | None) -> str:
    return " ".join(value) if isinstance(value, list) else (value or "")


def mapping_get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    assert isinstance(node, yaml.MappingNode)
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None


def uses_anchor(node: yaml.Node | None, anchor: yaml.Node) -> bool:
    """The node is the anchored node itself (`*alias`) or merges it (`<<: *alias`)."""
    if node is anchor:
        return True
    return isinstance(node, yaml.MappingNode) and any(
        key.tag == "tag:yaml.org,2002:merge" and value is anchor for key, value in node.value
    )


# ---------------------------------------------------------------- Dockerfile helpers


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line:
            keyword, _, args = line.partition(" ")
            instructions.append((keyword.upper(), " ".join(args.split())))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def global_args(instructions: list[tuple[str, str]]) -> dict[str, str]:
    args: dict[str, str] = {}
    for keyword, value in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG":
            name, _, default = value.partition("=")
            args[name] = default
    return args


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"use the exec (JSON) form: {args}"
    return value


def dockerignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignored(path: str) -> bool:
    """Whether `path` (relative to the build context) is left out of the context."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for pattern in dockerignore_patterns():
        negated = pattern.startswith("!")
        regex = glob_regex(pattern.lstrip("!").strip("/"))
        if any(regex.match(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    document = yaml.safe_load(compose_text)
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def rendered(compose: dict[str, Any], compose_text: str) -> dict[str, dict[str, Any]]:
    """The services with every variable set, as compose would run them."""
    return interpolate(compose, sample_env(compose_text))["services"]


@pytest.fixture(scope="module")
def osmo_env(rendered: dict[str, dict[str, Any]]) -> dict[str, str | None]:
    return env_of(rendered[API])


@pytest.fixture(scope="module")
def osmo_namespace(osmo_env: dict[str, str | None]) -> str:
    """The Temporal namespace Osmo's services use."""
    default = Settings.model_fields["temporal_namespace"].get_default()
    return osmo_env.get("OSMO_TEMPORAL_NAMESPACE") or default


# ---------------------------------------------------------------- compose: structure


def test_compose_file_declares_the_stack_without_a_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose spec has no `version:` key"
    assert set(compose["services"]) >= STACK


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("image") or service.get("build"), f"{name} has no image or build"


def test_pulled_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if service.get("build"):
            continue
        image = service["image"]
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and tag != "latest", f"{name}: pin {image} to a released tag"


def test_depends_on_targets_exist_with_valid_conditions(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert target != name, f"{name} depends on itself"
            assert condition in CONDITIONS, f"{name} -> {target}: bad condition {condition}"


def test_dependencies_have_no_cycle(services: dict[str, dict[str, Any]]) -> None:
    started: list[str] = []
    remaining = {name: set(depends_on(service)) for name, service in services.items()}
    while remaining:
        ready = sorted(name for name, needs in remaining.items() if needs <= set(started))
        assert ready, f"dependency cycle among {sorted(remaining)}"
        for name in ready:
            started.append(name)
            del remaining[name]


def test_healthy_conditions_point_at_services_with_a_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            if condition == "service_healthy":
                assert has_healthcheck(services[target]), (
                    f"{name} waits for {target} to be healthy, but {target} has no healthcheck"
                )


def test_completed_successfully_conditions_point_at_one_shot_services(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            if condition == "service_completed_successfully":
                restart = str(services[target].get("restart", "no"))
                assert restart == "no" or restart.startswith("on-failure"), (
                    f"{name} waits for {target} to exit, but {target} restarts ({restart})"
                )


def test_bind_mounts_exist_and_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for kind, source, target in volumes_of(service):
            if kind == "bind":
                local = (ROOT / source).resolve()
                assert local.exists(), f"{name} mounts {source} at {target}: no such file"
                assert local.is_relative_to(ROOT), f"{name} mounts {source} from outside the repo"
            else:
                assert source in declared, f"{name} uses volume {source}, not declared"


# ---------------------------------------------------------------- compose: Osmo's services


def test_osmo_services_share_the_image_and_the_env_anchor(
    compose_text: str, services: dict[str, dict[str, Any]]
) -> None:
    assert re.search(r"^x-osmo-env:\s*&osmo-env\s*$", compose_text, re.MULTILINE)
    root = yaml.compose(compose_text)
    anchor = mapping_get(root, "x-osmo-env")
    assert isinstance(anchor, yaml.MappingNode)
    service_nodes = mapping_get(root, "services")
    assert service_nodes is not None
    osmo_services = [name for name, svc in services.items() if build_context(svc) == ROOT]
    assert {API, WORKER} <= set(osmo_services)
    for name in osmo_services:
        service_node = mapping_get(service_nodes, name)
        assert service_node is not None
        assert uses_anchor(mapping_get(service_node, "environment"), anchor), (
            f"{name} must take its environment from *osmo-env"
        )
        assert services[name]["build"] == services[API]["build"]
        assert services[name].get("image") == services[API].get("image")


def test_api_runs_the_image_command_and_worker_runs_worker_py(
    services: dict[str, dict[str, Any]],
) -> None:
    api, worker = services[API], services[WORKER]
    cmd = exec_form(dict(final_stage(dockerfile_instructions()))["CMD"])
    command = api.get("command", cmd)
    assert command[:2] == ["uvicorn", "api.main:app"]
    assert any(published.endswith(":8000") for published in map(str, api["ports"]))
    assert "/health" in command_text(api["healthcheck"]["test"])
    assert worker["command"] == ["python", "worker.py"]
    # The image's HEALTHCHECK probes the API port; the worker must not inherit it.
    worker_check = worker.get("healthcheck")
    assert worker_check, "the worker would inherit the image's HTTP healthcheck"
    assert worker_check.get("disable") or "/health" not in command_text(worker_check.get("test"))


def test_osmo_env_points_at_the_stack(
    osmo_env: dict[str, str | None], services: dict[str, dict[str, Any]]
) -> None:
    assert osmo_env["OSMO_ENV"] == "production"

    url = make_url(osmo_env["OSMO_DATABASE_URL"] or "")
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "postgresql" and url.port == 5432
    assert services["postgresql"]["image"].split(":")[0] == "postgres"
    assert url.database and url.username and url.password

    host, _, port = (osmo_env["OSMO_TEMPORAL_ADDRESS"] or "").partition(":")
    assert (host, port) == ("temporal", "7233")
    assert services[host]["image"].startswith("temporalio/")


def test_osmo_env_builds_valid_production_settings(
    osmo_env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("OSMO_"):
            monkeypatch.delenv(name)
    for name, value in osmo_env.items():
        monkeypatch.setenv(name, value or "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.env == "production"
    assert settings.database_url == osmo_env["OSMO_DATABASE_URL"]
    assert settings.temporal_address == "temporal:7233"


@pytest.mark.parametrize("variable", REQUIRED_SECRETS)
def test_required_settings_refuse_to_start_when_unset(
    variable: str, compose: dict[str, Any], compose_text: str
) -> None:
    for name in (API, WORKER):
        raw = env_of(compose["services"][name])[variable] or ""
        assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", raw), (
            f"{name}: {variable} must be `${{{variable}:?message}}`, not {raw!r}"
        )
    env = sample_env(compose_text)
    del env[variable]
    with pytest.raises(MissingVariable, match=variable):
        interpolate(compose, env)


def test_credentials_have_no_defaults(compose_text: str, compose: dict[str, Any]) -> None:
    for name, operators in referenced_variables(compose_text).items():
        if re.search("PASSWORD|PWD|SECRET|ENCRYPTION", name):
            assert operators == {":?"}, f"${{{name}}} must be required (`:?`), got {operators}"
    for name, service in compose["services"].items():
        for variable, value in env_of(service).items():
            if re.search("PASSWORD|PWD|SECRET|ENCRYPTION", variable):
                assert value and "${" in value, f"{name}: {variable} is hard-coded"


def test_osmo_variables_are_settings_fields(
    compose_text: str, services: dict[str, dict[str, Any]]
) -> None:
    assert Settings.model_config.get("env_prefix") == "OSMO_"
    named = {name for name in referenced_variables(compose_text) if name.startswith("OSMO_")}
    for service in services.values():
        named |= {variable for variable in env_of(service) if variable.startswith("OSMO_")}
    unknown = named - SETTINGS_VARIABLES
    assert not unknown, f"not fields of core.settings.Settings: {sorted(unknown)}"
    assert set(REQUIRED_SECRETS) <= named


# ---------------------------------------------------------------- compose: PostgreSQL


def test_postgresql_init_script_creates_osmos_database(
    compose: dict[str, Any], osmo_env: dict[str, str | None]
) -> None:
    postgresql = compose["services"]["postgresql"]
    assert "pg_isready" in command_text(postgresql["healthcheck"]["test"])
    init_dir = bind_sources(postgresql)["/docker-entrypoint-initdb.d"]
    assert init_dir.is_relative_to(DEPLOY) and init_dir.is_dir()
    scripts = sorted(p for p in init_dir.iterdir() if p.suffix in {".sh", ".sql"})
    assert scripts, f"no init scripts in {init_dir}"
    sql = "\n".join(p.read_text() for p in scripts)

    url = make_url(osmo_env["OSMO_DATABASE_URL"] or "")
    assert re.search(rf"CREATE\s+(ROLE|USER)\s+{url.username}\b", sql, re.IGNORECASE)
    assert re.search(rf"CREATE\s+DATABASE\s+{url.database}\b", sql, re.IGNORECASE)
    # The URL's password and the init script read the same variable.
    raw_url = env_of(compose["services"][API])["OSMO_DATABASE_URL"] or ""
    password_variable = re.search(r":\$\{(\w+)", raw_url)
    assert password_variable, "the database password must come from a variable"
    assert password_variable[1] in env_of(postgresql)
    assert password_variable[1] in sql


# ---------------------------------------------------------------- compose: Temporal


def test_temporal_runs_on_postgresql(
    services: dict[str, dict[str, Any]], compose: dict[str, Any]
) -> None:
    temporal = services["temporal"]
    env = env_of(temporal)
    assert temporal["image"].startswith("temporalio/auto-setup:")
    assert env["DB"] == "postgres12"
    assert env["DB_PORT"] == "5432"
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert depends_on(temporal) == {"postgresql": "service_healthy"}
    raw_postgresql = env_of(compose["services"]["postgresql"])
    raw_temporal = env_of(compose["services"]["temporal"])
    assert raw_temporal["POSTGRES_USER"] == raw_postgresql["POSTGRES_USER"]
    assert raw_temporal["POSTGRES_PWD"] == raw_postgresql["POSTGRES_PASSWORD"]
    assert re.search(r"temporal operator|tctl", command_text(temporal["healthcheck"]["test"]))


def test_temporal_dynamic_config_is_a_mounted_deploy_file(
    services: dict[str, dict[str, Any]],
) -> None:
    temporal = services["temporal"]
    path = env_of(temporal)["DYNAMIC_CONFIG_FILE_PATH"] or ""
    target = path if path.startswith("/") else f"/etc/temporal/{path}"
    local = bind_sources(temporal).get(target)
    assert local is not None, f"{target} is not mounted into the temporal service"
    assert local.is_relative_to(DEPLOY) and local.is_file()
    config = yaml.safe_load(local.read_text())
    assert isinstance(config, dict) and config
    for key, values in config.items():
        assert isinstance(values, list) and values, key
        assert all(isinstance(item, dict) and "value" in item for item in values), key


def test_temporal_ui_and_namespace(
    services: dict[str, dict[str, Any]], osmo_namespace: str
) -> None:
    ui = services["temporal-ui"]
    assert env_of(ui)["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert any(str(port).endswith("8233:8080") for port in ui["ports"])
    assert depends_on(ui) == {"temporal": "service_healthy"}
    # auto-setup creates DEFAULT_NAMESPACE ("default"); temporal is healthy once it exists.
    temporal = services["temporal"]
    assert env_of(temporal).get("DEFAULT_NAMESPACE", "default") == osmo_namespace
    assert f"--namespace {osmo_namespace}" in command_text(temporal["healthcheck"]["test"])


def test_search_attribute_service_registers_exactly_osmos(
    services: dict[str, dict[str, Any]], osmo_env: dict[str, str | None], osmo_namespace: str
) -> None:
    service = services[SEARCH_ATTRIBUTES]
    assert service["image"].startswith(("temporalio/admin-tools:", "temporalio/temporal:"))
    assert depends_on(service) == {"temporal": "service_healthy"}
    assert depends_on(services[WORKER])[SEARCH_ATTRIBUTES] == "service_completed_successfully"

    expected = [key.name for key in search_attributes.ALL]
    names = service["command"]
    assert sorted(names) == sorted(expected) and len(names) == len(set(names))
    assert all(
        key.indexed_value_type == SearchAttributeIndexedValueType.KEYWORD
        for key in search_attributes.ALL
    ), "the registration script registers Keyword attributes only"

    script = bind_sources(service)[service["entrypoint"][-1]]
    assert script.is_relative_to(DEPLOY) and script.is_file()
    assert "--type Keyword" in script.read_text()
    env = env_of(service)
    assert env["TEMPORAL_ADDRESS"] == osmo_env["OSMO_TEMPORAL_ADDRESS"]
    assert env["TEMPORAL_NAMESPACE"] == osmo_namespace


# ---------------------------------------------------------------- deploy/ scripts


@pytest.mark.parametrize(
    "script", sorted(DEPLOY.rglob("*.sh")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_deploy_shell_scripts_parse(script: Path) -> None:
    shebang = script.read_text().splitlines()[0]
    assert shebang.startswith("#!"), f"{script} has no shebang"
    shell = "bash" if "bash" in shebang else "sh"
    if not shutil.which(shell):
        pytest.skip(f"{shell} is not installed")
    result = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_runtime_stage() -> None:
    instructions = dockerfile_instructions()
    stage = final_stage(instructions)
    base = stage[0][1].split()[0]
    for name, default in global_args(instructions).items():
        base = base.replace(f"${{{name}}}", default).replace(f"${name}", default)
    assert base == "python:3.11-slim"

    keywords = dict(stage)  # the last of each instruction wins, as in Docker
    for keyword in ("USER", "EXPOSE", "HEALTHCHECK", "CMD", "WORKDIR"):
        assert keyword in keywords, f"the runtime stage has no {keyword}"
    user = keywords["USER"].split(":")[0]
    assert user not in {"", "root", "0"}, "the image must run as a non-root user"
    assert "8000" in keywords["EXPOSE"].replace("/tcp", "").split()

    healthcheck = keywords["HEALTHCHECK"]
    assert not healthcheck.upper().startswith("NONE")
    probe = exec_form(healthcheck.partition(" CMD ")[2])  # JSON, or Docker runs it via sh
    assert probe[0] == "python" and "urllib" in probe[-1]
    assert "127.0.0.1:8000/health" in probe[-1]

    cmd = exec_form(keywords["CMD"])
    assert cmd[:2] == ["uvicorn", "api.main:app"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--port") + 1] == "8000"

    # `python worker.py` runs from the working directory.
    assert keywords["WORKDIR"]
    assert any(
        keyword == "COPY" and "worker.py" in {Path(arg).name for arg in args.split()[:-1]}
        for keyword, args in stage
    )


def test_dockerfile_installs_the_project() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"pip install (--\S+ )*\.(\s|$)", run) for run in runs)

    pyproject = (ROOT / "pyproject.toml").read_text()
    includes = re.search(r"include = \[(.*?)\]", pyproject)
    modules = re.search(r"py-modules = \[(.*?)\]", pyproject)
    assert includes and modules
    copied = {
        source.rstrip("/")
        for keyword, args in dockerfile_instructions()
        if keyword == "COPY" and "--from" not in args
        for source in args.split()[:-1]
    }
    patterns = re.findall(r'"([^"]+)"', includes[1])
    packages = {
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").is_file()
        and any(glob_regex(p.rstrip("*") + "*").match(path.name) for p in patterns)
    }
    assert packages >= {"core", "api", "connectors", "workflows", "activities"}
    files = {f"{name}.py" for name in re.findall(r'"([^"]+)"', modules[1])}
    missing = (packages | files | {"pyproject.toml"}) - copied
    assert not missing, f"the Dockerfile does not copy {sorted(missing)}"


def test_dockerfile_copies_only_what_the_build_context_has() -> None:
    for keyword, args in dockerfile_instructions():
        if keyword != "COPY" or "--from" in args:
            continue
        for source in [s for s in args.split() if not s.startswith("--")][:-1]:
            if any(char in source for char in "*?["):
                continue  # optional files, e.g. README.md*
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert not dockerignored(source), f"COPY {source}, but .dockerignore excludes it"


@pytest.mark.parametrize(
    "path",
    [
        ".git",
        ".venv/bin/python",
        ".data/osmo.db",
        ".env",
        ".pytest_cache/v/cache",
        "tests/.pytest_cache/README.md",
        "core/__pycache__/settings.cpython-311.pyc",
        ".mypy_cache/3.11",
        ".ruff_cache/content",
    ],
)
def test_dockerignore_excludes_local_state(path: str) -> None:
    assert dockerignored(path)


# ---------------------------------------------------------------- docker compose config


def compose_cli() -> list[str] | None:
    """`docker compose` (the plugin), else a standalone Compose v2 `docker-compose`."""
    docker = shutil.which("docker")
    if docker:
        plugin = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=60)
        if plugin.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone:
        probe = subprocess.run(
            [standalone, "version", "--short"], capture_output=True, text=True, timeout=60
        )
        major = probe.stdout.strip().lstrip("v").split(".")[0]
        if probe.returncode == 0 and major.isdigit() and int(major) >= 2:
            return [standalone]
    return None


def test_docker_compose_config_accepts_the_file(compose_text: str, tmp_path: Path) -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip(
            "no Docker Compose v2 CLI here: the docker CLI or its compose plugin is missing "
            "(and no v2 docker-compose is installed)"
        )
    values = sample_env(compose_text)
    base_env = {k: v for k, v in os.environ.items() if k not in values and k != "COMPOSE_FILE"}
    empty_env_file = tmp_path / "empty.env"  # ignore any developer's ./.env
    empty_env_file.write_text("")
    command = [
        *cli,
        "--project-directory",
        str(ROOT),
        "--env-file",
        str(empty_env_file),
        "-f",
        str(COMPOSE_FILE),
        "config",
        "-q",
    ]

    result = subprocess.run(
        command, env={**base_env, **values}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr

    missing = REQUIRED_SECRETS[0]
    values.pop(missing)
    result = subprocess.run(
        command, env={**base_env, **values}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and missing in result.stderr, result.stderr
