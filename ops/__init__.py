"""Running ChildSafe: the `childsafe` command, local Kafka, topics, settings, metrics, benchmarks."""
