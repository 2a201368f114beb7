"""Audio input: loading and converting to the model's format, and voice-activity splitting."""
