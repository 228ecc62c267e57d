"""The `bi_reader` role: BI tools on PostgreSQL read schema `marts` and nothing else.

BI logins are made members of `bi_reader` (`grant bi_reader to <login>`);
the role itself cannot log in. It gets USAGE on schema `marts`, SELECT on the
tables there, and default privileges so every table the publishing user
creates there later (publish recreates a mart whose columns changed) is
readable too. Nothing is granted on any other schema: raw, staging,
intermediate, unified (with personal data), identity and ops stay closed,
as PostgreSQL grants nothing on them to other roles by default.

DuckDB has no roles: BI tools there read the serving copy of the marts
(`marts.duckdb`), which holds nothing else.
"""

from __future__ import annotations

import sqlalchemy as sa

BI_READER_ROLE = "bi_reader"
MARTS_SCHEMA = "marts"

# Roles are cluster-wide: another database of the same server may have made it.
_CREATE_ROLE = f"""
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = '{BI_READER_ROLE}') then
        create role {BI_READER_ROLE} nologin;
    end if;
exception
    when duplicate_object then null;
end
$$
"""


def grant_marts_to_bi_reader(connection: sa.Connection) -> bool:
    """Create `bi_reader` if needed and let it read schema `marts` only.

    Runs inside the caller's transaction (the publish), so the grants hold
    for exactly the tables it publishes. Returns False on engines without
    roles (DuckDB), True when the grants were made.
    """
    if connection.dialect.name != "postgresql":
        return False
    connection.execute(sa.text(_CREATE_ROLE))
    connection.execute(sa.text(f"create schema if not exists {MARTS_SCHEMA}"))
    for statement in (
        f"grant usage on schema {MARTS_SCHEMA} to {BI_READER_ROLE}",
        f"grant select on all tables in schema {MARTS_SCHEMA} to {BI_READER_ROLE}",
        f"alter default privileges in schema {MARTS_SCHEMA} "
        f"grant select on tables to {BI_READER_ROLE}",
    ):
        connection.execute(sa.text(statement))
    return True
