"""Install channels 1-3 against a real server: the CLI, the Alembic branch, the psql script."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

import pyidsql.alembic
import pyidsql.install
from pyidsql import __version__
from pyidsql.tooling.cli import main

# A user object that depends on idsql: a column default calling an idsql function.
DEPENDENT_DEFAULT = """
CREATE FUNCTION idsql.t_dep() RETURNS int LANGUAGE sql RETURN 1;
CREATE TABLE public.t_user (id int PRIMARY KEY, n int DEFAULT idsql.t_dep());
"""


def _query(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as c:
        return c.execute(query).fetchall()  # type: ignore[arg-type]


def _schema_exists(dsn: str) -> bool:
    return bool(_query(dsn, "SELECT to_regnamespace('idsql') IS NOT NULL")[0][0])


def _status(dsn: str) -> pyidsql.install.Status:
    with psycopg.connect(dsn, autocommit=True) as c:
        return pyidsql.install.status(c)


def _version_rows(dsn: str, table: str) -> set[str] | None:
    """Return the revisions in an Alembic version table, or None if the table does not exist."""
    if not _query(dsn, f"SELECT to_regclass('public.{table}') IS NOT NULL")[0][0]:
        return None
    return {r[0] for r in _query(dsn, f"SELECT version_num FROM public.{table}")}


# --- channel 1: the CLI ------------------------------------------------------------------------


def test_cli_status_before_install(empty_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--dsn", empty_dsn]) == 1
    assert capsys.readouterr().out == "idsql is not installed\n"


def test_cli_install_twice_is_idempotent(empty_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install", "--dsn", empty_dsn]) == 0
    assert capsys.readouterr().out == f"idsql {__version__} installed\n"
    first = _status(empty_dsn)
    assert first.upgraded_at is None

    assert main(["install", "--dsn", empty_dsn]) == 0
    assert capsys.readouterr().out == f"idsql {__version__} installed\n"
    second = _status(empty_dsn)
    assert (second.version, second.channel) == (__version__, "cli")
    assert second.installed_at == first.installed_at
    assert second.upgraded_at is not None
    assert (second.functions, second.tables) == (first.functions, first.tables)
    assert _query(empty_dsn, "SELECT count(*) FROM idsql.installation") == [(1,)]


def test_cli_status_after_install(empty_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install", "--dsn", empty_dsn]) == 0
    capsys.readouterr()
    assert main(["status", "--dsn", empty_dsn]) == 0
    out = capsys.readouterr().out
    st = _status(empty_dsn)
    assert out.startswith(f"idsql {__version__} (installed through cli at ")
    assert f"functions: {st.functions}  tables: {st.tables}  triggers on user tables: 0" in out
    assert st.tables >= 1
    assert "to upgrade" not in out


def test_cli_uninstall_drops_the_schema(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["uninstall", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == "idsql uninstalled\n"
    assert not _schema_exists(dsn)
    assert main(["status", "--dsn", dsn]) == 1
    assert capsys.readouterr().out == "idsql is not installed\n"
    # Nothing left to drop is not an error.
    assert main(["uninstall", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == "idsql is not installed\n"


def test_cli_uninstall_refuses_while_user_objects_depend(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(DEPENDENT_DEFAULT)

    assert main(["uninstall", "--dsn", dsn]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "idsql is still in use by 1 object(s)" in captured.err
    assert "default value for column n of table t_user" in captured.err
    assert "--force" in captured.err
    assert _schema_exists(dsn)

    assert main(["uninstall", "--dsn", dsn, "--force"]) == 0
    assert capsys.readouterr().out == "idsql uninstalled\n"
    assert not _schema_exists(dsn)
    # The user's table stays; only the default that called idsql went with the schema.
    assert _query(dsn, "SELECT column_default FROM information_schema.columns WHERE table_name = 't_user'") == [
        (None,),
        (None,),
    ]


def test_uninstall_lists_views_and_foreign_keys_on_idsql_tables(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE VIEW my_prefixes AS SELECT prefix FROM idsql.prefix_counter")
        c.execute("CREATE TABLE my_ref (p text REFERENCES idsql.prefix_counter (prefix))")
        found = pyidsql.install.dependents(c)
        assert any("my_prefixes" in d for d in found), found
        assert any("my_ref" in d for d in found), found
        with pytest.raises(pyidsql.install.UninstallRefused):
            pyidsql.install.uninstall(c)
        assert _schema_exists(dsn)


def test_cli_sql_prints_the_psql_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql"]) == 0
    out = capsys.readouterr().out
    assert out == pyidsql.install.psql_script()
    assert out.startswith("\\set ON_ERROR_STOP on\nBEGIN;\n")
    assert out.endswith("COMMIT;\n")
    assert pyidsql.install.install_script() in out


# --- channel 3: psql -f ------------------------------------------------------------------------


def _psql(pg_server: Any) -> str:
    bindir = getattr(pg_server, "bindir", None)
    if bindir is not None and (Path(bindir) / "psql").is_file():
        return str(Path(bindir) / "psql")
    found = shutil.which("psql")
    if found is None:
        pytest.skip("no psql binary: neither in the server's bindir nor on PATH")
    return found


def _run_psql(psql: str, dsn: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_psql_script_installs_and_runs_again(
    pg_server: Any, empty_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    psql = _psql(pg_server)
    assert main(["sql"]) == 0
    script = tmp_path / "idsql.sql"
    script.write_text(capsys.readouterr().out)

    first = _run_psql(psql, empty_dsn, script)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    st = _status(empty_dsn)
    assert (st.version, st.channel, st.upgraded_at) == (__version__, "psql", None)

    again = _run_psql(psql, empty_dsn, script)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""
    st = _status(empty_dsn)
    assert (st.version, st.channel) == (__version__, "psql")
    assert st.upgraded_at is not None

    assert main(["status", "--dsn", empty_dsn]) == 0
    assert capsys.readouterr().out.startswith(f"idsql {__version__} (installed through psql at ")


def test_psql_script_stops_and_rolls_back_on_error(pg_server: Any, empty_dsn: str, tmp_path: Path) -> None:
    psql = _psql(pg_server)
    # A failure in the middle must leave nothing behind: the script is one transaction.
    broken = pyidsql.install.psql_script().replace("COMMIT;\n", "SELECT 1/0;\nCOMMIT;\n")
    script = tmp_path / "broken.sql"
    script.write_text(broken)
    result = _run_psql(psql, empty_dsn, script)
    assert result.returncode == 3
    assert "division by zero" in result.stderr
    assert not _schema_exists(empty_dsn)


# --- concurrent installs -----------------------------------------------------------------------


def _wait_for_lock_wait(observer: psycopg.Connection[Any], pid: int, timeout: float = 30.0) -> None:
    """Return once backend *pid* waits for an advisory lock; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    query = "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted"
    while observer.execute(query, (pid,)).fetchone() is None:
        assert time.monotonic() < deadline, "the second install never waited for the first"
        time.sleep(0.01)


def test_install_concurrent_installs_wait_for_each_other(empty_dsn: str) -> None:
    first = psycopg.connect(empty_dsn)
    second = psycopg.connect(empty_dsn)
    observer = psycopg.connect(empty_dsn, autocommit=True)
    errors: list[BaseException] = []

    def install_second() -> None:
        try:
            pyidsql.install.install(second, channel="cli")
            second.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    try:
        pyidsql.install.install(first, channel="cli")  # does not commit: holds the install lock
        assert first.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        worker = threading.Thread(target=install_second)
        worker.start()
        _wait_for_lock_wait(observer, second.info.backend_pid)
        assert worker.is_alive()
        first.commit()
        worker.join(timeout=60)
        assert not worker.is_alive()
        assert errors == []
    finally:
        for c in (first, second, observer):
            c.close()

    st = _status(empty_dsn)
    assert (st.version, st.channel) == (__version__, "cli")
    assert st.upgraded_at is not None  # the second install ran over the first one's result


def test_install_many_connections_at_once(empty_dsn: str) -> None:
    n = 4
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def install() -> None:
        try:
            with psycopg.connect(empty_dsn) as c:
                barrier.wait()
                pyidsql.install.install(c, channel="cli")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=install) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert _status(empty_dsn).version == __version__


# --- channel 2: Alembic, inside an application's own project -----------------------------------

APP_ENV = """
import os

import psycopg
import sqlalchemy as sa
from alembic import context
from sqlalchemy.pool import NullPool

dsn = os.environ["APP_DSN"]
engine = sa.create_engine("postgresql+psycopg://", poolclass=NullPool, creator=lambda: psycopg.connect(dsn))
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""

APP_0001 = """
from alembic import op

revision = "app_0001"
down_revision = None
branch_labels = ("app",)
depends_on = None


def upgrade():
    op.execute("CREATE TABLE app_item (id bigint PRIMARY KEY, code text NOT NULL)")


def downgrade():
    op.execute("DROP TABLE app_item")
"""

# Uses an idsql object, so it must run after idsql is installed: depends_on says so.
APP_0002 = """
from alembic import op

revision = "app_0002"
down_revision = "app_0001"
branch_labels = None
depends_on = "idsql"


def upgrade():
    op.execute("CREATE VIEW app_idsql AS SELECT version, channel FROM idsql.installation")


def downgrade():
    op.execute("DROP VIEW app_idsql")
"""


class AlembicApp:
    """A throwaway application Alembic project with pyidsql's branch in its version_locations."""

    def __init__(self, root: Path, dsn: str, idsql_location: str, python: str = sys.executable) -> None:
        self.root, self.dsn, self.python = root, dsn, python
        versions = root / "migrations" / "versions"
        versions.mkdir(parents=True)
        (root / "alembic.ini").write_text(
            textwrap.dedent(f"""\
                [alembic]
                script_location = %(here)s/migrations
                path_separator = space
                version_locations = %(here)s/migrations/versions {idsql_location}
                """)
        )
        (root / "migrations" / "env.py").write_text(APP_ENV)
        (root / "migrations" / "script.py.mako").write_text(
            (pyidsql.alembic.migrations_dir() / "script.py.mako").read_text()
        )
        (versions / "app_0001.py").write_text(APP_0001)
        (versions / "app_0002.py").write_text(APP_0002)

    def __call__(self, *args: str) -> str:
        """Run ``alembic ARGS`` in a subprocess, as a user would; return its stdout."""
        result = self.run(*args)
        assert result.returncode == 0, f"alembic {' '.join(args)} failed:\n{result.stderr}"
        return result.stdout

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "APP_DSN": self.dsn}
        return subprocess.run(
            [self.python, "-m", "alembic", "-c", str(self.root / "alembic.ini"), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def alembic_app(empty_dsn: str, tmp_path: Path) -> AlembicApp:
    """An application project naming pyidsql's versions as the package resource."""
    return AlembicApp(tmp_path / "app", empty_dsn, "pyidsql:migrations/versions")


DOCS = Path(__file__).resolve().parent.parent / "docs" / "alembic.md"


def _docs_block(lang: str) -> str:
    """Return the first ``lang`` fenced block of docs/alembic.md, verbatim."""
    block = re.search(rf"^```{lang}\n(.*?)^```$", DOCS.read_text(), re.M | re.S)
    assert block, f"docs/alembic.md shows no {lang} block"
    return block.group(1)


@pytest.mark.parametrize("config", ["alembic.ini", "pyproject.toml"])
def test_alembic_first_revision_of_an_app_as_the_docs_say(config: str, empty_dsn: str, tmp_path: Path) -> None:
    """A project with no revision yet: the first one must start the app's own branch, in its own folder.

    A plain ``alembic revision`` would extend the only head there is, idsql's, and write the file
    beside it, inside pyidsql's package. The project is wired with docs/alembic.md's configuration,
    verbatim, and the commands are the ones it shows, run as a user types them.
    """
    docs = DOCS.read_text()
    first = re.search(r"^\$ (alembic revision -m .* --head=base --branch-label=app --version-path=\S+)$", docs, re.M)
    assert first, "docs/alembic.md shows no first alembic revision command"
    later = re.search(r"`(alembic revision -m \"…\" --head=app@head)`", docs)
    assert later, "docs/alembic.md shows no command for the later revisions"
    root = tmp_path / "app"
    (root / "alembic" / "versions").mkdir(parents=True)
    (root / config).write_text(_docs_block("ini" if config == "alembic.ini" else "toml"))
    (root / "alembic" / "env.py").write_text(APP_ENV)
    (root / "alembic" / "script.py.mako").write_text((pyidsql.alembic.migrations_dir() / "script.py.mako").read_text())
    package = Path(pyidsql.alembic.version_locations())
    ours = sorted(p.name for p in package.glob("*.py"))

    def alembic(command: str) -> str:
        args = [sys.executable, "-m", "alembic", *shlex.split(command)[1:]]
        env = {**os.environ, "APP_DSN": empty_dsn}
        result = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{command} failed:\n{result.stderr}"
        return result.stdout

    alembic(first.group(1))
    (new,) = (root / "alembic" / "versions").glob("*.py")
    text = new.read_text()
    assert "down_revision: str | Sequence[str] | None = None" in text, text
    assert "branch_labels: str | Sequence[str] | None = ('app',)" in text, text
    alembic(later.group(1).replace("…", "add a column"))
    second = next(p for p in (root / "alembic" / "versions").glob("*.py") if p != new)
    assert "add a column" in second.read_text()
    assert sorted(p.name for p in package.glob("*.py")) == ours  # nothing landed in pyidsql's package
    heads = alembic("alembic heads")
    assert "(app) (head)" in heads and "idsql_0003 (idsql) (head)" in heads
    alembic("alembic upgrade heads")
    app_head = re.search(r"^revision: str = '(\w+)'$", second.read_text(), re.M)
    assert app_head
    assert _version_rows(empty_dsn, "alembic_version") == {app_head.group(1), "idsql_0003"}
    assert (_status(empty_dsn).version, _status(empty_dsn).channel) == (__version__, "alembic")


@pytest.mark.parametrize("form", ["resource", "path"])
def test_alembic_heads_lists_the_idsql_branch(form: str, empty_dsn: str, tmp_path: Path) -> None:
    # Both ways of naming the folder: the package resource, or version_locations()'s path.
    location = "pyidsql:migrations/versions" if form == "resource" else pyidsql.alembic.version_locations()
    alembic_app = AlembicApp(tmp_path / "app", empty_dsn, location)
    heads = alembic_app("heads")
    assert "app_0002 (app) (head)" in heads
    assert "idsql_0003 (idsql) (head)" in heads
    # The usual "multiple heads" messages, as the docs describe them.
    single = alembic_app.run("upgrade", "head")
    assert single.returncode != 0
    assert "Multiple head revisions are present" in single.stdout + single.stderr
    new = alembic_app.run("revision", "-m", "x")
    assert new.returncode != 0
    assert "Multiple heads are present" in new.stdout + new.stderr
    alembic_app("upgrade", "heads")
    assert _status(empty_dsn).channel == "alembic"


def test_alembic_upgrade_heads_installs_idsql_beside_the_app(alembic_app: AlembicApp) -> None:
    dsn = alembic_app.dsn
    # Two independent heads side by side in the application's version table.
    alembic_app("upgrade", "idsql@head")
    alembic_app("upgrade", "app_0001")
    assert _version_rows(dsn, "alembic_version") == {"idsql_0003", "app_0001"}
    st = _status(dsn)
    assert (st.version, st.channel) == (__version__, "alembic")

    # app_0002 depends on idsql (the label: its root, idsql_0001), which idsql_0003 already
    # follows: both stay heads in the table.
    alembic_app("upgrade", "heads")
    assert _version_rows(dsn, "alembic_version") == {"app_0002", "idsql_0003"}
    current = alembic_app("current")
    assert "app_0002 (head)" in current
    assert "idsql_0003 (head)" in current
    assert _query(dsn, "SELECT version, channel FROM app_idsql") == [(__version__, "alembic")]
    # The application's own project never creates pyidsql's separate version table.
    assert _version_rows(dsn, pyidsql.alembic.VERSION_TABLE) is None


def test_alembic_depends_on_installs_idsql_first(alembic_app: AlembicApp) -> None:
    alembic_app("upgrade", "app@head")
    assert _status(alembic_app.dsn).channel == "alembic"
    assert _query(alembic_app.dsn, "SELECT channel FROM app_idsql") == [("alembic",)]


def test_alembic_downgrade_idsql_base_and_upgrade_again(alembic_app: AlembicApp) -> None:
    dsn = alembic_app.dsn
    alembic_app("upgrade", "heads")
    # idsql@base also downgrades the application revisions that depend on idsql (app_0002).
    alembic_app("downgrade", "idsql@base")
    assert _version_rows(dsn, "alembic_version") == {"app_0001"}
    assert not _schema_exists(dsn)
    assert _query(dsn, "SELECT to_regclass('app_idsql') IS NULL, to_regclass('app_item') IS NOT NULL") == [(True, True)]

    alembic_app("upgrade", "heads")
    assert _version_rows(dsn, "alembic_version") == {"app_0002", "idsql_0003"}
    st = _status(dsn)
    assert (st.version, st.channel) == (__version__, "alembic")


def test_alembic_downgrade_refuses_while_user_objects_depend(alembic_app: AlembicApp) -> None:
    dsn = alembic_app.dsn
    alembic_app("upgrade", "heads")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(DEPENDENT_DEFAULT)
    result = alembic_app.run("downgrade", "idsql@base")
    assert result.returncode != 0
    assert "DowngradeRefused" in result.stderr
    assert "default value for column n of table t_user" in result.stderr
    # The whole downgrade rolled back, app_0002 included.
    assert _version_rows(dsn, "alembic_version") == {"app_0002", "idsql_0003"}
    assert _schema_exists(dsn)


# --- channel 2: Alembic, pyidsql's own environment ---------------------------------------------


def test_alembic_upgrade_own_environment_uses_its_own_version_table(empty_dsn: str) -> None:
    pyidsql.alembic.upgrade(empty_dsn)
    assert _version_rows(empty_dsn, pyidsql.alembic.VERSION_TABLE) == {"idsql_0003"}
    assert _version_rows(empty_dsn, "alembic_version") is None
    st = _status(empty_dsn)
    assert (st.version, st.channel) == (__version__, "alembic")

    pyidsql.alembic.upgrade(empty_dsn)  # nothing left to do
    assert _version_rows(empty_dsn, pyidsql.alembic.VERSION_TABLE) == {"idsql_0003"}

    pyidsql.alembic.downgrade(empty_dsn)
    assert _version_rows(empty_dsn, pyidsql.alembic.VERSION_TABLE) == set()
    assert not _schema_exists(empty_dsn)


def test_alembic_own_environment_lives_beside_an_app_history(empty_dsn: str, tmp_path: Path) -> None:
    pyidsql.alembic.upgrade(empty_dsn)
    app = AlembicApp(tmp_path / "app", empty_dsn, "pyidsql:migrations/versions")
    app("upgrade", "app@head")  # replays idsql_0001 in the app's history: it leaves the newer install alone
    assert _version_rows(empty_dsn, "alembic_version") == {"app_0002"}
    assert _version_rows(empty_dsn, pyidsql.alembic.VERSION_TABLE) == {"idsql_0003"}
    assert _query(empty_dsn, "SELECT count(*) FROM idsql.installation") == [(1,)]


def test_alembic_downgrade_own_environment_refuses_while_user_objects_depend(dsn: str) -> None:
    pyidsql.alembic.upgrade(dsn)  # over the CLI install of the template: takes it over
    assert _status(dsn).channel == "alembic"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(DEPENDENT_DEFAULT)

    with pytest.raises(pyidsql.alembic.DowngradeRefused) as info:
        pyidsql.alembic.downgrade(dsn)
    assert info.value.dependents == ["default value for column n of table t_user"]
    assert isinstance(info.value, pyidsql.install.UninstallRefused)
    assert _schema_exists(dsn)
    assert _version_rows(dsn, pyidsql.alembic.VERSION_TABLE) == {"idsql_0003"}

    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("DROP TABLE t_user")
    pyidsql.alembic.downgrade(dsn)
    assert not _schema_exists(dsn)


def test_alembic_upgrade_in_the_callers_transaction(empty_dsn: str) -> None:
    engine = pyidsql.alembic.engine_for(empty_dsn)
    try:
        with engine.connect() as connection:
            connection.begin()
            pyidsql.alembic.upgrade(connection)
            assert connection.exec_driver_sql("SELECT channel FROM idsql.installation").scalar() == "alembic"
            assert not _schema_exists(empty_dsn)  # not committed: the transaction is the caller's
            connection.rollback()
        assert not _schema_exists(empty_dsn)

        with engine.connect() as connection:
            pyidsql.alembic.upgrade(connection)  # no transaction open: Alembic commits its own
        assert _status(empty_dsn).channel == "alembic"
    finally:
        engine.dispose()


def test_alembic_upgrade_accepts_an_engine_and_a_sqlalchemy_url(empty_dsn: str) -> None:
    engine = pyidsql.alembic.engine_for(empty_dsn)
    try:
        pyidsql.alembic.upgrade(engine)
    finally:
        engine.dispose()
    assert _status(empty_dsn).channel == "alembic"
    pyidsql.alembic.downgrade(_sqlalchemy_url(empty_dsn))
    assert not _schema_exists(empty_dsn)


def _sqlalchemy_url(conninfo: str) -> str:
    """Return a ``postgresql+psycopg://`` URL for a libpq string (parameters in the query: a socket
    directory cannot be the URL's host)."""
    params = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(conninfo).items()}
    dbname = params.pop("dbname")
    url = sa.engine.URL.create("postgresql+psycopg", database=dbname, query=params)
    return url.render_as_string(hide_password=False)


def test_alembic_offline_sql_runs_in_psql(
    pg_server: Any, empty_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    psql = _psql(pg_server)
    pyidsql.alembic.upgrade(None, sql=True)
    up = tmp_path / "up.sql"
    up.write_text(capsys.readouterr().out)
    pyidsql.alembic.downgrade(None, "idsql_0003:base", sql=True)
    down = tmp_path / "down.sql"
    down.write_text(capsys.readouterr().out)

    result = _run_psql(psql, empty_dsn, up)
    assert result.returncode == 0, result.stderr
    assert _version_rows(empty_dsn, pyidsql.alembic.VERSION_TABLE) == {"idsql_0003"}
    assert _status(empty_dsn).channel == "alembic"

    with psycopg.connect(empty_dsn, autocommit=True) as c:
        c.execute(DEPENDENT_DEFAULT)
    refused = _run_psql(psql, empty_dsn, down)
    assert refused.returncode == 3
    assert "idsql is still in use" in refused.stderr
    assert "default value for column n of table t_user" in refused.stderr
    assert _schema_exists(empty_dsn)

    with psycopg.connect(empty_dsn, autocommit=True) as c:
        c.execute("DROP TABLE t_user")
    result = _run_psql(psql, empty_dsn, down)
    assert result.returncode == 0, result.stderr
    assert not _schema_exists(empty_dsn)
    assert _version_rows(empty_dsn, pyidsql.alembic.VERSION_TABLE) == set()


def test_alembic_version_locations_points_at_the_shipped_revisions() -> None:
    versions = Path(pyidsql.alembic.version_locations())
    assert versions == pyidsql.alembic.migrations_dir() / "versions"
    assert (pyidsql.alembic.migrations_dir() / "env.py").is_file()
    assert (pyidsql.alembic.migrations_dir() / "script.py.mako").is_file()
    assert any(p.name.startswith("idsql_0001") for p in versions.glob("*.py"))
