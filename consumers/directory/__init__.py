"""The alert directory: loading it (CSV import, generator) and reading audiences out of it."""
