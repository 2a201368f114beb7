"""`align-report`: one self-contained HTML page per document to check an alignment by ear."""
