"""Importing this package registers every `childsafe` subcommand."""

from ops.commands import audit_cmd, cases_cmd, contracts_cmd, kafka_cmd, tokens_cmd, topics_cmd  # noqa: F401
