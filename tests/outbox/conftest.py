from tests.queue.conftest import live, pipeline, sim, simulator  # noqa: F401  (fixtures: the send pipeline against the simulator)
