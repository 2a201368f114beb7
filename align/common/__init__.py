"""Small utilities shared by `align` and `mine`: errors, atomic files, hashing, progress."""
