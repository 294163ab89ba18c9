"""docker/compose.yaml, read as Compose reads it: no container engine runs here, so these
tests check what the file promises (a configuration reviewflow accepts, pinned images, the
start order, two API and two worker processes, health checks, ports) by parsing it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from temporalio.common import SearchAttributeIndexedValueType

from config.check import environment_problems
from config.settings import ENVIRONMENT_VARIABLES, load_settings
from reviewflow.services import API_SHUTDOWN_TIMEOUT_S
from worker import GRACEFUL_SHUTDOWN
from workflows.review import SEARCH_ATTRIBUTES

DOCKER = Path(__file__).resolve().parents[1] / "docker"
COMPOSE = DOCKER / "compose.yaml"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, $NAME, and $$.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bare>\w+))"
)


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """`value` with every variable replaced as Compose does, from `env`."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        unset = name not in env or (op is not None and op.startswith(":") and env[name] == "")
        if op in (":-", "-"):
            return arg if unset else env[name]
        if op in (":?", "?") and unset:
            raise AssertionError(f"{name} must be set: {arg}")
        return env.get(name, "")

    return _VARIABLE.sub(replace, value)


def load_compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The file as Compose resolves it, with `env` (nothing set: a laptop try-out)."""
    return interpolate(yaml.safe_load(COMPOSE.read_text()), env or {})  # type: ignore[no-any-return]


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {name: "" if value is None else str(value) for name, value in raw.items()}


def reviewflow_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile."""
    return {
        name: service
        for name, service in compose["services"].items()
        if isinstance(service.get("build"), dict)
        and service["build"].get("dockerfile") == "docker/Dockerfile"
    }


def conditions(service: Mapping[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def has_healthcheck(service: Mapping[str, Any]) -> bool:
    check = service.get("healthcheck") or {}
    return bool(check.get("test")) and not check.get("disable", False)


def seconds(duration: str) -> float:
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?", duration)
    assert parts and duration, f"not a Compose duration: {duration!r}"
    return int(parts[1] or 0) * 60 + float(parts[2] or 0)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def test_every_reviewflow_service_runs_on_a_configuration_reviewflow_accepts(
    compose: dict[str, Any],
) -> None:
    services = reviewflow_services(compose)
    assert set(services) == {"migrate", "api", "worker"}
    for name, service in services.items():
        env = environment_of(service)
        assert set(env) <= set(ENVIRONMENT_VARIABLES), (name, set(env) - set(ENVIRONMENT_VARIABLES))
        # check-config's own checks of the variables, without reaching the services.
        needs = ("DATABASE_URL", "TEMPORAL_ADDRESS")
        assert environment_problems(env, needs=needs) == [], name
        assert service["build"]["context"] == "..", name


def test_reviewflow_reaches_the_services_of_this_file(compose: dict[str, Any]) -> None:
    services = compose["services"]
    settings = load_settings(environment_of(services["api"]))
    assert settings.database_url is not None and settings.temporal_address is not None

    database = urlsplit(settings.database_url)
    assert database.hostname == "postgres" and database.port == 5432
    postgres = environment_of(services["postgres"])
    assert database.password == postgres["REVIEWFLOW_DB_PASSWORD"]
    # The role and database of DATABASE_URL are the ones the init script creates.
    init = (DOCKER / "postgres" / "init-databases.sh").read_text()
    assert f"CREATE ROLE {database.username} LOGIN" in init
    assert f"CREATE DATABASE {database.path.lstrip('/')} OWNER {database.username}" in init

    host, port = settings.temporal_address.split(":")
    assert host == "temporal" and port in {p.split(":")[-1] for p in services[host]["ports"]}
    assert settings.smtp is not None and settings.smtp.host == "mailpit"
    assert settings.smtp.port == 1025 and not settings.smtp.starttls  # Mailpit offers no TLS

    # Links in messages point at the proxy's published port.
    public = urlsplit(settings.api_url)
    assert f"127.0.0.1:{public.port}:{settings.port}" in services["proxy"]["ports"]


def test_the_environment_given_by_an_operator_reaches_reviewflow() -> None:
    compose = load_compose(
        {"REVIEWFLOW_PUBLIC_URL": "https://reviews.example.org", "REVIEWFLOW_DB_PASSWORD": "s3cret"}
    )
    for name, service in reviewflow_services(compose).items():
        settings = load_settings(environment_of(service))
        assert settings.api_url == "https://reviews.example.org", name
        assert settings.database_url is not None and ":s3cret@" in settings.database_url, name
    assert environment_of(compose["services"]["postgres"])["REVIEWFLOW_DB_PASSWORD"] == "s3cret"


def test_every_secret_default_says_to_change_it() -> None:
    text = COMPOSE.read_text()
    defaults = re.findall(r"\$\{(\w*(?:PASSWORD|TOKEN|SECRET)\w*):-([^}]*)\}", text)
    assert defaults, "the secrets have defaults for a laptop"
    for name, default in defaults:
        assert default == "" or "change-me" in default, (name, default)


def image_tags(compose: Mapping[str, Any]) -> dict[str, str]:
    return {name: service.get("image", "") for name, service in compose["services"].items()}


def test_every_image_is_pinned_to_a_version(compose: dict[str, Any]) -> None:
    pinned = re.compile(r"^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.]+)?(@sha256:[0-9a-f]{64})?$")
    for name, image in image_tags(compose).items():
        assert pinned.match(image), f"{name}: {image!r} is not pinned to a version"
        assert "auto-setup" not in image, f"{name}: Temporal's auto-setup image is deprecated"


def test_the_temporal_schema_is_that_of_the_server_version(compose: dict[str, Any]) -> None:
    images = image_tags(compose)
    server_version = images["temporal"].removeprefix("temporalio/server:")
    assert images["temporal-schema"] == f"temporalio/admin-tools:{server_version}"
    assert images["temporal-namespace"] == f"temporalio/admin-tools:{server_version}"


def test_temporal_runs_on_postgresql_with_a_schema_set_up_by_the_admin_tools(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    server = environment_of(services["temporal"])
    assert server["DB"] == "postgres12" and server["POSTGRES_SEEDS"] == "postgres"
    assert server["POSTGRES_PWD"] == environment_of(services["temporal-schema"])["SQL_PASSWORD"]
    assert server["POSTGRES_PWD"] == environment_of(services["postgres"])["TEMPORAL_DB_PASSWORD"]

    script = services["temporal-schema"]["command"][-1]
    assert "--plugin postgres12" in script and f"-u {server['POSTGRES_USER']}" in script
    steps = [line.split() for line in script.splitlines() if line.startswith("sql --db")]
    for database, kind in (
        (server["DBNAME"], "temporal"),
        (server["VISIBILITY_DBNAME"], "visibility"),
    ):
        done = [step[3:] for step in steps if step[2] == database]
        assert done == [
            ["create-database"],
            ["setup-schema", "-v", "0.0"],
            ["update-schema", "-d", f'"$schema/{kind}/versioned"'],
        ], database
    # The dynamic configuration the server is told to read is mounted from this folder.
    mounted = {
        volume.split(":")[1]: volume.split(":")[0] for volume in services["temporal"]["volumes"]
    }
    assert (DOCKER / mounted[server["DYNAMIC_CONFIG_FILE_PATH"]]).is_file()


def test_the_namespace_and_search_attributes_reviewflow_uses_are_created(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    namespace = environment_of(services["temporal-namespace"])["NAMESPACE"]
    for name, service in reviewflow_services(compose).items():
        assert environment_of(service)["TEMPORAL_NAMESPACE"] == namespace, name
    script = services["temporal-namespace"]["command"][-1]
    assert 'namespace create --namespace "$NAMESPACE"' in script
    created = re.search(r"for name in ([\w ]+); do", script)
    assert created is not None
    assert set(created[1].split()) == {key.name for key in SEARCH_ATTRIBUTES}
    # The script creates them all as Keyword.
    assert {key.indexed_value_type for key in SEARCH_ATTRIBUTES} == {
        SearchAttributeIndexedValueType.KEYWORD
    }


def test_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {
        "temporal-schema": {"postgres": "service_healthy"},
        "temporal": {"temporal-schema": "service_completed_successfully"},
        "temporal-namespace": {"temporal": "service_healthy"},
        "temporal-ui": {"temporal": "service_healthy"},
        "migrate": {"postgres": "service_healthy"},
        "proxy": {"api": "service_healthy"},
    }
    for name, wanted in expected.items():
        assert conditions(services[name]) == wanted, name
    for name in ("api", "worker"):
        after = conditions(services[name])
        assert after["migrate"] == "service_completed_successfully", name
        assert after["temporal-namespace"] == "service_completed_successfully", name
    assert conditions(services["worker"])["mailpit"] == "service_healthy"


def test_every_dependency_can_be_met(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, condition in conditions(service).items():
            assert target in services, f"{name} waits for {target}, which does not exist"
            if condition == "service_healthy":
                assert has_healthcheck(services[target]), f"{target} has no health check"
            if condition == "service_completed_successfully":
                # A one-shot: never restarted, so it completes once.
                assert services[target].get("restart") == "no", target
                assert "ports" not in services[target], target

    def reaches_itself(start: str, current: str, seen: frozenset[str]) -> bool:
        return any(
            after == start or (after not in seen and reaches_itself(start, after, seen | {after}))
            for after in conditions(services[current])
        )

    assert not [name for name in services if reaches_itself(name, name, frozenset({name}))]


def test_two_api_and_two_worker_processes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("api", "worker"):
        assert services[name]["command"] == [name]
        assert services[name]["deploy"]["replicas"] == 2, name
        # Replicas cannot share a host port: the API is reached through the proxy.
        assert "ports" not in services[name], name
    assert services["migrate"]["command"] == ["migrate"]
    caddyfile = (DOCKER / "Caddyfile").read_text()
    port = environment_of(services["api"])["REVIEWFLOW_PORT"]
    assert re.search(rf"dynamic a \{{\s*name api\s*port {port}\s", caddyfile)


def test_health_checks_where_promised(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "temporal", "api", "mailpit", "proxy"):
        assert has_healthcheck(services[name]), name
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    # The image's check asks for /healthz over HTTP: a worker and migrate serve none.
    for name in ("worker", "migrate"):
        assert services[name]["healthcheck"] == {"disable": True}, name


def test_stopping_leaves_time_for_a_graceful_shutdown(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert seconds(services["worker"]["stop_grace_period"]) > GRACEFUL_SHUTDOWN.total_seconds()
    assert seconds(services["api"]["stop_grace_period"]) > API_SHUTDOWN_TIMEOUT_S


def published(service: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(host address, host port) of each port the service publishes."""
    for port in service.get("ports", []):
        if isinstance(port, dict):
            yield port.get("host_ip", "0.0.0.0"), str(port["published"])
            continue
        parts = str(port).split(":")
        assert len(parts) == 3, f"{port!r}: give the host address, so nothing listens publicly"
        yield parts[0], parts[1]


def test_published_ports_do_not_clash_and_stay_on_this_machine(compose: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    for name, service in compose["services"].items():
        for address, port in published(service):
            assert address == "127.0.0.1", (name, port)
            assert port not in seen, f"{name} and {seen.get(port)} both publish {port}"
            seen[port] = name
    assert set(seen) == {"8080", "8233", "8025", "7233"}


def test_files_the_services_mount_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).is_file(), f"{name} mounts {source}, which is missing"
            else:
                assert source in compose["volumes"], f"{name} uses an undeclared volume {source}"
