import psycopg2
import pytest


@pytest.mark.postgres
def test_postgres_server_accepts_queries(postgres_server):
    url = postgres_server.create_database("support_check")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select 40 + 2")
        assert cur.fetchone()[0] == 42
