"""Recalls: holdings indexed per partition, each recall broadcast to every partition and matched there."""
