"""Importing this package registers every `childsafe` subcommand."""

from ops.commands import (  # noqa: F401
                          audit_cmd,
                          cap_cmd,
                          cases_cmd,
                          console_cmd,
                          contracts_cmd,
                          db_cmd,
                          deadletter_cmd,
                          demo_cmd,
                          directory_cmd,
                          exporter_cmd,
                          indicators_cmd,
                          intake_cmd,
                          kafka_cmd,
                          sandbox_cmd,
                          send_cmd,
                          sms_cmd,
                          tokens_cmd,
                          topics_cmd,
                          up_cmd,
                          worker_cmd,
)
