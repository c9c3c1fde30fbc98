"""The simulated endpoints, plain functions from a request context to a reply, grouped by what they serve."""
