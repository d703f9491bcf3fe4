"""Province indicators (plan item 28): facts recorded from the topics, and the one module of queries over them."""
