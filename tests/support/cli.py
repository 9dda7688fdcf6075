"""`tikabot ...` run in-process as an operator runs it, on the test's database, and the sites file
the import tests start from."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tikabot.cli.main import main

SITES_HEADER = "code,name,district,state\n"
KALYANI = "S001,Kalyani PHC,Nadia,West Bengal\n"


def tikabot_cli(database_url: str, monkeypatch, **env: str):
    """run(*args) -> click's Result of `tikabot ARGS` on this database, without Redis; `env` adds
    variables (UPSTREAM_FHIR_BASE=...)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def import_sites(run, folder: Path, *rows: str) -> Path:
    """Write sites.csv (Kalyani PHC, S001, when no rows are given) and import it; its path."""
    path = Path(folder) / "sites.csv"
    path.write_text(SITES_HEADER + "".join(rows or (KALYANI,)), encoding="utf-8")
    assert run("import", "sites", str(path)).exit_code == 0
    return path
