"""Importing this package registers every `childsafe` subcommand."""

from ops.commands import (contracts_cmd, demo_cmd, kafka_cmd, sandbox_cmd, send_cmd, topics_cmd,  # noqa: F401
                          worker_cmd)
