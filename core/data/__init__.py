"""Data sets: the record, the built-in generators, the CSV loader."""
