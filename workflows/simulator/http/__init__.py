"""What every simulated endpoint shares: parameters, the request context and cursors, the models an app
serves, the answers to injected faults, and the dispatcher around the handlers (``workflows.simulator.handlers``)."""
