"""``python -m tikabot.simulator``: run the provider simulator with fault flags.

Every scalar field of FaultConfig is a flag (``--rate-429 0.05``, ``--latency-ms 20``,
``--seed 1``...); ``--fail-rate F`` spreads F over all fault kinds.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Optional

from tikabot.simulator.config import FaultConfig, spread_fail_rate
from tikabot.simulator.server import print_message, run

SCALARS = (int, float, str, bool)
TYPES_OF_NONE_DEFAULTS = {"seed": int}


def _flag_type(name, default):
    if isinstance(default, bool):
        return lambda text: text.lower() in ("1", "true", "yes", "on")
    if default is None:
        return TYPES_OF_NONE_DEFAULTS.get(name, str)
    return type(default)


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tikabot.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--quiet", action="store_true", help="do not print each message")
    for field in dataclasses.fields(FaultConfig):
        default = field.default
        if default is dataclasses.MISSING or not isinstance(default, SCALARS + (type(None),)):
            continue
        flag = "--" + field.name.replace("_", "-")
        parser.add_argument(flag, dest=field.name, type=_flag_type(field.name, default), default=None)
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> FaultConfig:
    names = {f.name for f in dataclasses.fields(FaultConfig)}
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    changes = {**spread_fail_rate(args.fail_rate), **given} if args.fail_rate else given
    return FaultConfig().updated(changes)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    config = config_from_args(args)
    print(f"Provider simulator on http://{args.host}:{args.port}", flush=True)
    run(args.host, args.port, config, on_message=None if args.quiet else print_message)


if __name__ == "__main__":
    main()
