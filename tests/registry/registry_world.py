"""Names the registry tests share (the fixtures are in conftest.py)."""
VACCINATOR, COORDINATOR = "+919830000001", "+919830000009"
TIMEOUT_S = 0.5  # the client's timeout; the simulator's "timeout" faults hold an answer three times longer
