"""Speech-to-text engines behind one small interface (see `base`), imported lazily."""
