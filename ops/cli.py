"""The `childsafe` command: one entry point, subcommands wired to the composition root."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from pydantic import ValidationError

from contracts.errors import ChildSafeError
from ops.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]
_REGISTRY: list[Callable[[argparse._SubParsersAction], None]] = []


def subcommand(register: Callable[[argparse._SubParsersAction], None]):
    """Modules add their subcommands here; ops.commands imports them all."""
    _REGISTRY.append(register)
    return register


def print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    import ops.commands  # noqa: F401  (registers every subcommand)

    parser = argparse.ArgumentParser(prog="childsafe", description="ChildSafe child-safety incident and alert system")
    subs = parser.add_subparsers(dest="command", required=True)
    for register in _REGISTRY:
        register(subs)
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:  # a bad CHILDSAFE_* value fails here, naming its variable
        print(f"childsafe: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.handler(args, settings) or 0)
    except ChildSafeError as exc:
        from contracts.dlq import DeadLetterLimitExceeded

        print(f"childsafe: {exc}", file=sys.stderr)
        return 70 if isinstance(exc, DeadLetterLimitExceeded) else 2  # every worker stops the same way (runbooks)
