"""smelt on Argo Workflows: Hera templates, their rendering and submission, and the cluster checks.

Hera here only describes containers, parameters, dependencies, retries, resources and synchronisation;
every container runs ``smelt <step> …``. Modules that the pipeline image runs (``tradingday``, ``outcome``)
import neither Hera nor the Kubernetes client: that image installs neither.
"""
