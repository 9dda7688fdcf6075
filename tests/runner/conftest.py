from runner_world import say, world  # noqa: F401  (fixtures)
