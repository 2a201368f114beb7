"""The text engine: normalisation, search, rough and gap alignment, metrics.

It knows nothing of audio, engines or files: strings and records in, records out.
"""
