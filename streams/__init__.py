"""The Faust app: agents that read topics, keep tables and write topics; no database, no SMS."""
