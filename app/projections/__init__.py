"""Read models for people: tables kept from the event log by a projector, so
lists and task inboxes never query thousands of workflows.

The log stays the one source of truth; a projection is a cache of a fold.
The :class:`~app.projections.projector.Projector` reads the log by global
position and, for each page of events, updates every projection's tables and
its tracking record (name, last position) in ONE transaction: a crash loses
the whole page or none of it, a restart resumes after the last committed
position, and two projectors at once (the service's loop and a CLI catching
up before a read) cannot apply an event twice, since each re-reads its
tracking row inside the transaction (the row lock on PostgreSQL, SQLite's
single writer) and skips what is already applied. ``rebuild`` empties a
projection and replays it from position 0.

Adding a projection (the campaign counts, say):

1. declare its tables in a module of this package on
   :data:`app.projections.schema.metadata`, and create them in an Alembic
   migration;
2. write a class with ``name`` (its tracking key), ``handles`` (event types
   it reads; empty for all), ``tables`` (what ``rebuild`` empties, children
   first) and ``apply(conn, record)``, optionally ``flush(conn)`` called at
   the end of each page (to write what ``apply`` gathered in memory);
3. add an instance to :func:`app.projections.registry.all_projections`.

A new projection starts at position 0 and catches up by itself."""
