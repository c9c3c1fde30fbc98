"""The request headers a client sends the simulator; importable without the simulator's market models."""

#: The simulated now of one request: ``2026-11-24`` (that day's close) or an ISO datetime.
NOW_HEADER = "X-Sim-Now"
#: Faults to inject into one request, e.g. ``rate_429=0.3,retry_after=1``.
FAULTS_HEADER = "X-Sim-Faults"
