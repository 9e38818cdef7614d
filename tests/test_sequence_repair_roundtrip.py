"""The runbook's scenario end to end: pg_dump, a restore that leaves sequences behind, the CLI.

A restore that skips the dump's SEQUENCE SET entries (as a data-only or filtered restore does),
followed by an import with explicit IDs, leaves every sequence at its start while the tables hold
data: the next insert fails with a duplicate key. ``pyidsql check-sequences`` must fail,
``pyidsql fix-sequences`` must fix, and inserts must work again.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

import pyidsql.install
from pyidsql.tooling.cli import main


def _run(binary: Path, *args: str) -> str:
    return subprocess.run([str(binary), *args], check=True, capture_output=True, text=True).stdout


def test_fix_all_sequences_after_a_pg_dump_round_trip(
    pg_server: Any, dsn: str, empty_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if pg_server.bindir is None or not (pg_server.bindir / "pg_dump").is_file():
        pytest.skip("no pg_dump of the server's major version here")
    with psycopg.connect(dsn, autocommit=True) as src:
        src.execute('CREATE TABLE "user" (user_id serial PRIMARY KEY, name text)')
        src.execute("CREATE TABLE battery_rental (rental_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY)")
        src.execute('CREATE SCHEMA "Billing"')
        src.execute('CREATE TABLE "Billing"."Payment Types" (type_id bigserial PRIMARY KEY)')
        src.execute("""INSERT INTO "user" (name) VALUES ('a'), ('b'), ('c')""")
        src.execute("INSERT INTO battery_rental SELECT FROM generate_series(1, 15)")
        src.execute('INSERT INTO "Billing"."Payment Types" SELECT FROM generate_series(1, 3)')

    dump = tmp_path / "db.dump"
    _run(pg_server.bindir / "pg_dump", "-Fc", "-N", "idsql", "-f", str(dump), "-d", dsn)
    toc = _run(pg_server.bindir / "pg_restore", "-l", str(dump))
    kept = [line for line in toc.splitlines() if "SEQUENCE SET" not in line]
    assert len(kept) < len(toc.splitlines())  # the dump did carry the sequence values
    (tmp_path / "toc.list").write_text("\n".join(kept) + "\n")
    _run(pg_server.bindir / "pg_restore", "-L", str(tmp_path / "toc.list"), "-d", empty_dsn, str(dump))

    with psycopg.connect(empty_dsn, autocommit=True) as dst:
        pyidsql.install.install(dst)
        dst.execute("""INSERT INTO "user" (user_id, name) VALUES (4, 'imported')""")  # an import
        with pytest.raises(psycopg.errors.UniqueViolation, match="user_pkey"):
            dst.execute("""INSERT INTO "user" (name) VALUES ('new')""")

    assert main(["check-sequences", "--dsn", empty_dsn]) == 1
    out = capsys.readouterr().out
    assert "behind      user.user_id  (max: 4, next: 2)" in out
    assert 'behind      "Billing"."Payment Types".type_id  (max: 3, next: 1)' in out
    assert out.splitlines()[-1] == "3 sequences: 3 behind; run 'pyidsql fix-sequences'"

    assert main(["fix-sequences", "--dsn", empty_dsn]) == 0
    assert capsys.readouterr().out.splitlines() == [
        'Fixed "Billing"."Payment Types".type_id sequence (max: 3, next: 4)',
        "Fixed battery_rental.rental_id sequence (max: 15, next: 16)",
        "Fixed user.user_id sequence (max: 4, next: 5)",
        "Successfully fixed 3 sequence(s)!",
    ]
    assert main(["check-sequences", "--dsn", empty_dsn]) == 0
    # In the words of sequence_report(): after a fix the sequences are ok, not "ahead".
    assert capsys.readouterr().out == "3 sequences: 3 ok\n"
    with psycopg.connect(empty_dsn) as dst:
        assert {row.status for row in pyidsql.sequence_report(dst)} == {"ok"}

    with psycopg.connect(empty_dsn, autocommit=True) as dst:
        assert dst.execute("""INSERT INTO "user" (name) VALUES ('new') RETURNING user_id""").fetchone() == (5,)
        assert dst.execute("INSERT INTO battery_rental DEFAULT VALUES RETURNING rental_id").fetchone() == (16,)
        assert dst.execute('INSERT INTO "Billing"."Payment Types" DEFAULT VALUES RETURNING type_id').fetchone() == (4,)


def test_fix_all_sequences_cli_dry_run_schema_and_margin(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.a (id serial)")
        conn.execute("CREATE TABLE b (id serial)")
        conn.execute("INSERT INTO app.a VALUES (10)")
        conn.execute("INSERT INTO b VALUES (20)")
    assert main(["fix-sequences", "--dsn", dsn, "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Would fix app.a.id sequence (max: 10, next: 11)",
        "Would fix b.id sequence (max: 20, next: 21)",
        "Dry run: would fix 2 sequence(s)",
    ]
    assert main(["fix-sequences", "--dsn", dsn, "--schema", "app", "--margin", "100"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Fixed app.a.id sequence (max: 10, next: 111)",
        "Successfully fixed 1 sequence(s)!",
    ]
    assert main(["check-sequences", "--dsn", dsn, "--schema", "app"]) == 0
    assert main(["check-sequences", "--dsn", dsn]) == 1
    with pytest.raises(SystemExit):
        main(["fix-sequences", "--dsn", dsn, "--margin", "-1"])


def test_fix_all_sequences_cli_progress_bar_on_a_terminal(
    dsn: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(60):
            conn.execute(f"CREATE TABLE t{i:02} (id serial)")  # type: ignore[arg-type]
        conn.execute("INSERT INTO t07 VALUES (70)")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main(["fix-sequences", "--dsn", dsn]) == 0
    out = capsys.readouterr().out
    assert "] 60/60 sequences" in out
    assert "\r\033[KFixed t07.id sequence (max: 70, next: 71)\n" in out
    assert out.endswith("\r\033[KSuccessfully fixed 1 sequence(s)!\n")
