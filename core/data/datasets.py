"""Transition: the old one-file module, split into :mod:`.dataset`, :mod:`.builtin` and
:mod:`.csv`. Callers move to those; this file goes once none imports it."""

from .builtin import load_digits, make_dataset  # transition: callers move to .builtin
from .csv import DataError, inspect_csv, load_csv  # transition: callers move to .csv
from .dataset import Dataset  # transition: callers move to .dataset

__all__ = ["DataError", "Dataset", "inspect_csv", "load_csv", "load_digits", "make_dataset"]
