"""SMS alerts: audience fan-out, dispatch through the gateway with a ledger, webhooks, acknowledgements."""
