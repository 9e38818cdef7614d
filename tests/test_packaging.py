"""The built wheel carries everything: installed outside the repository, every channel works from it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from test_install import AlembicApp, _psql, _run_psql, _status

from pyidsql import __version__

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the bin/ folder of a fresh venv, outside the repository, with the built wheel installed.

    pyidsql comes from the wheel; its dependencies (psycopg, SQLAlchemy, Alembic) are borrowed from
    this environment through a .pth line, so the test needs no network.
    """
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", dist, cwd=REPO)
    (wheel,) = dist.glob("pyidsql-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv)
    site = Path(
        _run(
            venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=venv
        ).strip()
    )
    # A plain path line: the folder joins sys.path, but the editable install's .pth inside it is not read.
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps", wheel, cwd=venv
    )
    return venv / "bin"


def test_wheel_imports_pyidsql_from_the_wheel_with_its_sql(wheel_env: Path) -> None:
    out = _run(
        wheel_env / "python",
        "-c",
        "import pyidsql, pyidsql._resources as r, pyidsql.alembic as a; "
        "print(pyidsql.__file__); print(len(r.sql_files())); print(a.version_locations())",
        cwd=wheel_env,
    )
    module, sql_count, versions = out.splitlines()
    venv = wheel_env.parent
    assert Path(module).is_relative_to(venv) and not Path(module).is_relative_to(REPO)
    assert int(sql_count) == len(
        [ln for ln in (REPO / "sql" / "manifest.txt").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    )
    assert Path(versions).is_relative_to(venv)
    assert sorted(p.name for p in Path(versions).glob("*.py")) == sorted(
        p.name for p in (REPO / "migrations" / "versions").glob("*.py")
    )


def test_the_version_is_written_once(wheel_env: Path) -> None:
    """pyproject.toml takes the version from pyidsql/__init__.py: the wheel's metadata says it."""
    assert "version =" not in (REPO / "pyproject.toml").read_text().split("[project.optional-dependencies]")[0]
    out = _run(wheel_env / "python", "-c", "import importlib.metadata as m; print(m.version('pyidsql'))", cwd=wheel_env)
    assert out.strip() == __version__


def test_wheel_installs_through_every_channel(wheel_env: Path, pg_server: Any, empty_dsn: str, tmp_path: Path) -> None:
    pyidsql_cmd = wheel_env / "pyidsql"

    # 1. the CLI
    assert _run(pyidsql_cmd, "install", "--dsn", empty_dsn, cwd=tmp_path) == f"idsql {__version__} installed\n"
    st = _status(empty_dsn)
    assert (st.version, st.channel) == (__version__, "cli")
    assert _run(pyidsql_cmd, "next-id", "CUS", "--dsn", empty_dsn, cwd=tmp_path) == "CUS-AAA0001\n"
    _run(pyidsql_cmd, "uninstall", "--dsn", empty_dsn, cwd=tmp_path)
    assert not _status(empty_dsn).installed

    # 2. the psql script printed by the installed command: the same script as this checkout's
    script = tmp_path / "idsql.sql"
    script.write_text(_run(pyidsql_cmd, "sql", cwd=tmp_path))
    assert script.read_text() == _run(sys.executable, "-m", "pyidsql", "sql", cwd=REPO)
    result = _run_psql(_psql(pg_server), empty_dsn, script)
    assert result.returncode == 0, result.stderr
    st = _status(empty_dsn)
    assert (st.version, st.channel) == (__version__, "psql")
    _run(pyidsql_cmd, "uninstall", "--dsn", empty_dsn, cwd=tmp_path)

    # 3. Alembic, in a new project that names the shipped revisions as a package resource
    app = AlembicApp(tmp_path / "app", empty_dsn, "pyidsql:migrations/versions", python=str(wheel_env / "python"))
    app("upgrade", "heads")
    st = _status(empty_dsn)
    assert (st.version, st.channel) == (__version__, "alembic")


USER_TEST = """
import pyidsql


def test_first_customer_gets_the_first_id(idsql_conn):
    assert pyidsql.generate_id(idsql_conn, "CUS") == "CUS-AAA0001"
    assert pyidsql.generate_id(idsql_conn, "CUS") == "CUS-AAA0002"


def test_each_test_gets_a_fresh_database(idsql_conn):
    assert pyidsql.current_id(idsql_conn, "CUS") is None


def test_with_the_fixtures_of_pytest_postgresql(postgresql):
    assert pyidsql.generate_id(postgresql, "INV") == "INV-AAA0001"
"""

# A project that already uses pytest-postgresql's fixtures gives them idsql with one loader.
USER_CONFTEST = """
import os

from psycopg.conninfo import conninfo_to_dict
from pytest_postgresql import factories

from pyidsql.testing import load_idsql

_server = conninfo_to_dict(os.environ["PYIDSQL_TEST_DSN"])
postgresql_noproc = factories.postgresql_noproc(
    host=_server["host"], port=int(_server["port"]), user=_server["user"], password=_server.get("password"),
    dbname=f"shop_{os.getpid()}", load=[load_idsql],
)
postgresql = factories.postgresql("postgresql_noproc")
"""


def test_wheel_pytest_plugin_in_a_new_project(wheel_env: Path, pg_server: Any, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    (project / "tests").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "tests" / "test_ids.py").write_text(USER_TEST)
    (project / "tests" / "conftest.py").write_text(USER_CONFTEST)
    env = {**os.environ, "PYIDSQL_TEST_DSN": pg_server.conninfo(pg_server.maintenance_db), "PYIDSQL_REQUIRE_DB": "1"}
    result = subprocess.run(
        [str(wheel_env / "python"), "-m", "pytest", "-p", "pyidsql.testing", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    assert f"pyidsql tests ran on PostgreSQL {pg_server.version}" in result.stdout


def test_pre_commit_runs_what_make_lint_runs() -> None:
    """Each command of ``make lint`` is a hook of .pre-commit-config.yaml, with the same tool of .venv."""
    import yaml

    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    commands = [
        " ".join(
            line.strip().replace("$(VENV)/bin/", ".venv/bin/").replace("$(PY)", ".venv/bin/python").split()
        ).removesuffix(" $(LINT_PY)")
        for line in recipe
    ]
    assert len(commands) == 5, commands
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    entries = {hook["entry"] for repo in config["repos"] for hook in repo["hooks"]}
    # sqlfluff lint sql/ in make is sqlfluff lint <the changed files of sql/> in pre-commit.
    assert {c.removesuffix(" sql/") for c in commands} == entries
