"""Config, the one build path, the experiment, its history and rewind, run files."""
