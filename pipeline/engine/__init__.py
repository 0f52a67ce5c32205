"""The engine that runs units of work and remembers them: run state, runner, backends, WORK lock."""
