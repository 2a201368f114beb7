"""Thin command-line entry points: parse, validate, configure logging, call the library."""
