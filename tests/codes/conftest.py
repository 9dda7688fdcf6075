from tests.support.worlds.runner import say, world  # noqa: F401  (fixtures)
