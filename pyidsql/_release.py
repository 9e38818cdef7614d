"""Versioned scripts: released versions are frozen files, the head is generated from ``sql/``.

Layout (all under ``sql/``, shipped in the wheel):

* ``releases/idsql--X.Y.Z.sql``: the install script of version X.Y.Z;
* ``releases/idsql--A--B.sql``: the upgrade step from version A to the next version B;
* ``releases/SHA256SUMS``: the checksums of every released (frozen) file; a test fails when one
  of them changes;
* ``upgrades/A--B.sql``: the hand-written part of the step A → B (``ALTER``, ``DROP``, data
  moves: whatever re-running the head's idempotent script cannot do). It runs first in the step;
* ``installer/*.sql``: the few statements the channels wrap around the scripts (version guards).

The head version is ``pyidsql.__version__``. Its two scripts are built from ``sql/`` whenever a
channel asks for them, so a change of ``sql/`` is written once, in its source file: the install
script is ``sql/`` concatenated in the order of ``sql/manifest.txt``, and the step from the
previous version is ``upgrades/PREV--HEAD.sql`` followed by that same install script (every
statement of which can run over an existing install). ``python -m pyidsql._release build [DIR]``
(``make release-scripts``) writes them into DIR (default ``build/releases``) to read or to run
with ``psql -f``; ``check`` fails when a frozen file changed or the chain has a gap; ``cut
NEXT`` writes and freezes the head's scripts and opens ``upgrades/HEAD--NEXT.sql`` for the next
version.

Every channel runs these same files: the CLI and ``psql`` run the scripts as they are, Alembic runs
one per revision, and ``CREATE EXTENSION`` / pg_tle get them through :func:`extension_script`, which
only drops the ``CREATE SCHEMA`` statement (the control file's ``schema`` creates it) and appends
the extension epilogue.
"""

from __future__ import annotations

import hashlib
import re
import sys
from itertools import pairwise
from pathlib import Path

from pyidsql import __version__, _resources

RELEASES_DIR = _resources.SQL_DIR / "releases"
UPGRADES_DIR = _resources.SQL_DIR / "upgrades"
INSTALLER_DIR = _resources.SQL_DIR / "installer"
SUMS = RELEASES_DIR / "SHA256SUMS"

EXTENSION = "idsql"
COMMENT = "ID logic kept inside PostgreSQL: prefixed IDs, table IDs, sequence repair, state versions, ID negotiation"
CREATE_SCHEMA = "CREATE SCHEMA IF NOT EXISTS idsql;\n"

_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def version_key(version: str) -> tuple[int, ...]:
    """Return a sortable key for ``X.Y.Z``; raise ValueError for anything else."""
    if not _VERSION.match(version):
        raise ValueError(f"not a version: {version!r}")
    return tuple(int(part) for part in version.split("."))


def head() -> str:
    """Return the head version: the one this package installs."""
    return __version__


def versions() -> list[str]:
    """Return every version from the first release to the head, oldest first."""
    found = {p.name[len("idsql--") : -len(".sql")] for p in RELEASES_DIR.glob("idsql--*.sql")}
    found = {v for v in found if "--" not in v} | {head()}
    return sorted(found, key=version_key)


def install_file(version: str) -> Path:
    """Return the path of a version's install script."""
    return RELEASES_DIR / f"idsql--{version}.sql"


def step_file(source: str, target: str) -> Path:
    """Return the path of the upgrade step from *source* to *target*."""
    return RELEASES_DIR / f"idsql--{source}--{target}.sql"


def steps(source: str, target: str | None = None) -> list[tuple[str, str]]:
    """Return the upgrade steps from *source* to *target* (default: the head), in order.

    Raises ValueError when either is not a known version or *target* is older.
    """
    target = target or head()
    chain = versions()
    for version in (source, target):
        if version not in chain:
            raise ValueError(f"unknown idsql version {version}; known: {', '.join(chain)}")
    first, last = chain.index(source), chain.index(target)
    if first > last:
        raise ValueError(f"cannot upgrade from {source} down to {target}")
    return list(zip(chain[first:last], chain[first + 1 : last + 1], strict=True))


def install_script(version: str | None = None) -> str:
    """Return the install script of *version* (default: the head): frozen, or the head's built from ``sql/``."""
    if version is None or version == head():
        return build_install_script()
    return install_file(version).read_text()


def step_script(source: str, target: str) -> str:
    """Return the upgrade step from *source* to the next version *target* (the head's built from ``sql/``)."""
    if target == head():
        return build_step_script(source)
    return step_file(source, target).read_text()


def installer_sql(name: str) -> str:
    """Return one of the statements in ``sql/installer/`` (a version guard, the extension epilogue)."""
    return (INSTALLER_DIR / f"{name}.sql").read_text()


def pinned(script: str) -> str:
    """Return *script* run under ``search_path = pg_catalog, pg_temp``, the caller's value restored after.

    The plain channels wrap every script in this: the scripts name idsql's objects qualified, but
    a column default such as ``now()`` or an operator would otherwise resolve through the
    caller's search_path when the table is created. ``CREATE EXTENSION`` does the same by itself.
    """
    return installer_sql("pin_search_path") + script + installer_sql("restore_search_path")


# --- building the head ------------------------------------------------------------------------


def build_install_script() -> str:
    """Return the head's install script, built from ``sql/`` in the order of ``sql/manifest.txt``."""
    version = head()
    parts = [
        f"-- idsql {version}: install script for the idsql schema.\n"
        "-- Generated from sql/ in the order of sql/manifest.txt (make release-scripts); do not edit.\n"
        "-- Every statement can run over an existing install of this version: running it again is harmless.\n"
    ]
    for path in _resources.sql_files():
        rel = path.relative_to(_resources.SQL_DIR)
        parts.append(f"\n-- {rel}\n{path.read_text().strip()}\n")
    parts.append(
        "\n-- record what is installed\n"
        "INSERT INTO idsql.installation AS i (singleton, version, channel)\n"
        f"VALUES (true, '{version}', 'psql')\n"
        "ON CONFLICT (singleton) DO UPDATE\n"
        "    SET version = excluded.version, upgraded_at = now();\n"
    )
    return "".join(parts)


def build_step_script(source: str) -> str:
    """Return the head's upgrade step from *source*: the hand-written part, then the install script."""
    target = head()
    manual = UPGRADES_DIR / f"{source}--{target}.sql"
    return (
        f"-- idsql {source} -> {target}: upgrade step.\n"
        f"-- Generated from sql/upgrades/{manual.name} and sql/ (make release-scripts); do not edit.\n"
        f"\n-- upgrades/{manual.name}\n{manual.read_text().strip()}\n\n" + build_install_script()
    )


def head_files() -> dict[Path, str]:
    """Return the generated files of the head, path -> text."""
    files = {install_file(head()): build_install_script()}
    chain = versions()
    if len(chain) > 1:
        files[step_file(chain[-2], head())] = build_step_script(chain[-2])
    return files


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def frozen() -> dict[str, str]:
    """Return the frozen files from ``SHA256SUMS``: file name -> checksum."""
    sums: dict[str, str] = {}
    for line in SUMS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def problems() -> list[str]:
    """Return what is out of date: edited frozen files, stale or missing head files, broken chains."""
    found: list[str] = []
    sums = frozen()
    for name, digest in sums.items():
        path = RELEASES_DIR / name
        if not path.is_file():
            found.append(f"frozen file {name} is missing")
        elif _sha256(path) != digest:
            found.append(f"frozen file {name} was edited: a released script never changes; put the change in sql/")
    for path in head_files():
        if path.name in sums:
            found.append(f"{path.name} is frozen but belongs to the head {head()}: bump the version first")
    chain = versions()
    for source, target in pairwise(chain):
        if target == head() and not (UPGRADES_DIR / f"{source}--{target}.sql").is_file():
            found.append(f"no hand-written part upgrades/{source}--{target}.sql of the head's step")
        elif target != head() and not step_file(source, target).is_file():
            found.append(f"no upgrade step {step_file(source, target).name}")
    expected = {install_file(v).name for v in chain} | {step_file(a, b).name for a, b in pairwise(chain)}
    for path in RELEASES_DIR.glob("idsql--*.sql"):
        if path.name not in expected:
            found.append(f"{path.name} is not part of the chain {' -> '.join(chain)}")
    return found


def build(directory: Path = Path("build/releases")) -> list[Path]:
    """Write the head's scripts into *directory* (to read them, or run them with ``psql -f``); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in head_files().items():
        (directory / path.name).write_text(text)
        written.append(directory / path.name)
    return written


def _freeze_head() -> list[Path]:
    """Write the head's scripts into ``releases/``, where they stay, frozen; return their paths."""
    for path, text in head_files().items():
        path.write_text(text)
    return list(head_files())


def cut(next_version: str) -> list[str]:
    """Freeze the head's files and open the hand-written step to *next_version*; return what to do next."""
    if version_key(next_version) <= version_key(head()):
        raise ValueError(f"{next_version} is not after the head {head()}")
    if problems():
        raise ValueError(f"the release files are not in order: {'; '.join(problems())}")
    _freeze_head()
    sums = frozen()
    lines = SUMS.read_text().rstrip("\n").splitlines()
    for path in head_files():
        if path.name not in sums:
            lines.append(f"{_sha256(path)}  {path.name}")
    SUMS.write_text("\n".join(lines) + "\n")
    manual = UPGRADES_DIR / f"{head()}--{next_version}.sql"
    manual.write_text(
        f"-- idsql {head()} -> {next_version}: what re-running the install script of {next_version} cannot do\n"
        "-- by itself (ALTER TABLE, DROP FUNCTION of a removed or re-typed function, data moves).\n"
        "-- It runs first in the step, over an install of the previous version.\n"
        "-- (nothing yet)\n"
    )
    return [
        f"froze {head()}: {', '.join(str(p.relative_to(_resources.SQL_DIR.parent)) for p in head_files())}",
        f"edit {manual.relative_to(_resources.SQL_DIR.parent)}",
        f'set __version__ = "{next_version}" in pyidsql/__init__.py (the only place the version is written)',
        "add an Alembic revision that runs the new step (see migrations/versions/idsql_0002_upgrade_to_0_2_0.py)",
        "run make test",
    ]


# --- the extension ----------------------------------------------------------------------------


def extension_script(script: str, *, install: bool) -> str:
    """Return a release script in the form ``CREATE EXTENSION`` runs it.

    The only differences: no ``CREATE SCHEMA`` (the control file's ``schema`` creates it, and
    PostgreSQL refuses a script that names a schema the extension does not own), a check that a
    plain install is not in the way (install scripts), and the epilogue that registers the
    tables and sequences holding state with ``pg_extension_config_dump`` so ``pg_dump`` keeps
    their rows.
    """
    count = script.count(CREATE_SCHEMA)
    if count != 1:
        raise ValueError(f"expected one {CREATE_SCHEMA.strip()!r} in the script, found {count}")
    body = script.replace(CREATE_SCHEMA, "-- (the schema comes from the control file)\n")
    prologue = installer_sql("extension_prologue") if install else ""
    return prologue + body + "\n" + installer_sql("extension_epilogue")


def control_file() -> str:
    """Return ``idsql.control``."""
    return (
        f"# idsql extension: generated by make extension from pyidsql {head()}.\n"
        f"comment = '{COMMENT}'\n"
        f"default_version = '{head()}'\n"
        "schema = idsql\n"
        "relocatable = false\n"
        "# The scripts need no superuser right: a role with CREATE on the database installs it, the\n"
        "# script runs as that role, and it owns the objects (see docs/privileges.md).\n"
        "superuser = false\n"
    )


def extension_files() -> dict[str, str]:
    """Return the files of the extension: name -> text (control file, install and upgrade scripts)."""
    guard = '\\echo Use "CREATE EXTENSION idsql" to load this file. \\quit\n'
    files = {f"{EXTENSION}.control": control_file()}
    chain = versions()
    for version in chain:
        files[install_file(version).name] = guard + extension_script(install_script(version), install=True)
    for source, target in pairwise(chain):
        files[step_file(source, target).name] = guard + extension_script(step_script(source, target), install=False)
    return files


def write_extension(directory: Path) -> list[Path]:
    """Write the extension's files into *directory* (created if missing); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in extension_files().items():
        path = directory / name
        path.write_text(text)
        path.chmod(0o644)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m pyidsql._release build [DIR] | check | extension DIR | cut NEXT``."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "build"
    if command == "build" and len(args) <= 2:
        for path in build(Path(args[1]) if len(args) == 2 else Path("build/releases")):
            print(f"wrote {path}")
        found = problems()
    elif command == "check":
        found = problems()
    elif command == "extension" and len(args) == 2:
        for path in write_extension(Path(args[1])):
            print(f"wrote {path}")
        return 0
    elif command == "cut" and len(args) == 2:
        for line in cut(args[1]):
            print(line)
        return 0
    else:
        print("usage: python -m pyidsql._release build [DIR] | check | extension DIR | cut NEXT", file=sys.stderr)
        return 2
    for problem in found:
        print(f"release scripts: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
