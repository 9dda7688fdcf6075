"""What every `tikabot` command starts from: the config read from the environment (a bad value is
a one-line click error, not a traceback) and the services built from it.

Commands defined in other modules (reminders/command.py, cli_templates.py) import this module,
never cli.py, so cli.py can import them at its top: no import cycle, nothing hidden in a function.
"""
from __future__ import annotations

import click

from tikabot.config import Config


def config() -> Config:
    try:
        return Config.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def services(config_: Config | None = None):
    from tikabot.services import Services  # the database and Redis clients: only for commands that use them

    return Services.build(config_ or config())
