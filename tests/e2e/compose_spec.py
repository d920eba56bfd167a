"""docker-compose.yml as compose reads it: YAML with merge keys, then
``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` interpolated from an
environment (``$$`` is a literal ``$``)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_PATH = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
PINGYI_SERVICES = ("pingyi-migrate", "pingyi-worker", "pingyi-api")
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}")


def load() -> dict:
    return yaml.safe_load(COMPOSE_PATH.read_text(encoding="utf-8"))


def variables(text: str | None = None) -> set[str]:
    """The names compose interpolates."""
    text = COMPOSE_PATH.read_text(encoding="utf-8") if text is None else text
    return {m.group(1) for m in _VAR.finditer(text) if m.group(1)}


def interpolate(value: str, env: dict[str, str]) -> str:
    def one(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        have = env.get(name)
        if op in (":-", "-"):
            return have if have not in (None, "") or (op == "-" and have is not None) else interpolate(arg, env)
        if op in (":?", "?"):
            if have in (None, "") and op == ":?" or have is None:
                raise KeyError(f"compose needs {name}: {arg}")
            return have
        return have or ""

    return _VAR.sub(one, value)


def service_env(service: str, env: dict[str, str]) -> dict[str, str]:
    raw = load()["services"][service].get("environment") or {}
    return {k: interpolate(str(v), env) for k, v in raw.items()}


def example_env() -> dict[str, str]:
    """The assignments of .env.example (comments skipped)."""
    out = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out
