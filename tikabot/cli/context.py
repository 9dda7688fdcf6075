"""What every `tikabot` command starts from: the config read from the environment (a bad value is
a one-line click error, not a traceback) and the services built from it, once: they become the
process's services (tikabot/services.py `of_process`), which the worker's jobs then use too.

Commands in the other cli/ modules import this module, never cli/main.py, so cli/main.py imports
them at its top.
"""
from __future__ import annotations

import click

from tikabot import services as process
from tikabot.config import EX_CONFIG, Config
from tikabot.services import Services




class ConfigError(click.ClickException):
    """A setting missing or wrong, in one line: exit EX_CONFIG, which a unit's RestartPreventExitStatus
    takes as "leave it stopped" (deploy/systemd/tikabot-bot.service) rather than restarting it in a loop."""
    exit_code = EX_CONFIG


def config(error: type[click.ClickException] = click.ClickException) -> Config:
    try:
        return Config.from_env()
    except ValueError as exc:
        raise error(str(exc)) from exc


def services(config_: Config | None = None) -> Services:
    return process.install(Services.build(config_ or config()))
