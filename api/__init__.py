"""The HTTP API (FastAPI): thin adapters over the use cases in ``app/``,
versioned under ``/api/v1``. ``api.main.create_app`` builds it; ``api.deps``
holds the dependencies the pages reuse (the principal, CSRF)."""
