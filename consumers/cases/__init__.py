"""The mandatory-reporting case workflow: case store, state machine, clocks, access and audit trail."""
