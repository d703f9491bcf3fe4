"""The shared language of ChildSafe: versioned message contracts, the topic catalogue and CAP 1.2.

Imports nothing else of the project's; every other package imports it.
"""
