"""The application layer: one typed use case per thing a person or system does.

The CLI, the HTTP API and the pages are thin adapters over this package: they
parse, call one use case with the signed-in :class:`~app.principal.Principal`,
and render its typed result or its typed :class:`~app.errors.AppError`.
Nothing else talks to Temporal or the databases on a person's behalf."""
