"""The built-in demo tree: real face photographs in synthetic scenes, forged four ways
(`lrl-prep demo-data`)."""
