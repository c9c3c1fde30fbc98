"""Everything every step container shares, so a template author never repeats it.

Image, service account, security context, resources, environment, volumes, retries and labels live here;
the names of the Kubernetes objects the pipeline chart creates for them (ServiceAccount, ConfigMaps,
Secrets, the shared volume) are the constants below, and the chart uses the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hera.workflows import (
    Artifact,
    ConfigMapEnvFrom,
    Container,
    EmptyDirVolume,
    Env,
    ExistingVolume,
    Parameter,
    Resources,
    RetryStrategy,
    SecretEnv,
    SecretEnvFrom,
    SecretVolume,
)
from hera.workflows import models as m

Warehouse = Literal["duckdb", "snowflake"]

#: The chart replaces this with its `image` values; rendered files stay free of registries and tags.
IMAGE = "smelt-pipeline:rendered"
SERVICE_ACCOUNT = "smelt-workflow"
#: The exit handler's own identity: the one account that may `get` the run's Workflow (its step times),
#: which no other step needs (decision 115; charts/pipeline role-report.yaml).
REPORT_SERVICE_ACCOUNT = "smelt-report"
ENV_CONFIGMAP = "smelt-pipeline-env"
SEMAPHORE_CONFIGMAP = "smelt-semaphores"
POLYGON_SEMAPHORE_KEY = "polygon"
RUNS_SEMAPHORE_KEY = "runs"
POLYGON_SECRET, POLYGON_SECRET_KEY = "smelt-polygon", "api-key"
SNOWFLAKE_SECRET, SNOWFLAKE_SECRET_KEY = "smelt-snowflake", "private-key"
SNOWFLAKE_PASSPHRASE_KEY = "private-key-passphrase"  # noqa: S105 - a key name; only an encrypted key has one
#: The vendor's flat-file keys (charts/pipeline externalsecret-flatfiles.yaml): the Secret's keys are the
#: settings' own names, so a pod takes them as they are.
FLATFILES_SECRET = "smelt-flatfiles"  # noqa: S105 - the Secret's name
FLATFILES_KEYS = ("POLYGON_FLATFILES_ACCESS_KEY_ID", "POLYGON_FLATFILES_SECRET_ACCESS_KEY")
#: The run alerts' webhook URL (charts/pipeline externalsecret-alerts.yaml): the Secret's key is the setting's name,
#: and only the exit handler (`report`) references it.
ALERTS_SECRET, ALERTS_KEY = "smelt-alerts", "SMELT_ALERT_WEBHOOK_URL"
#: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for an in-cluster S3 server (local profile); IRSA needs none.
S3_SECRET = "smelt-s3"  # noqa: S105 - the Secret's name
HOME_CLAIM = "smelt-home"  # DuckDB only: the warehouse file and dbt's target, shared by every step
WAREHOUSE_MUTEX = "smelt-warehouse-write"
#: One dbt build at a time on either warehouse: the daily or backfill transform and the weekly validation.
TRANSFORM_MUTEX = "smelt-transform"

HOME = "/var/lib/smelt"
OUTPUTS = "/tmp/outputs"  # noqa: S108 - an emptyDir volume, the one writable place besides HOME
SNOWFLAKE_KEY_DIR = "/var/run/secrets/smelt/snowflake"
RUN_RESULTS = f"{HOME}/dbt/target/run_results.json"
USER_ID = 10001  # the images' numeric non-root user

STEP_LABEL = "smelt.dev/step"
UNDERLYING_LABEL = "smelt.dev/underlying"
POLYGON_LABEL = "smelt.dev/calls-polygon"  # pods that call the market-data API (the semaphore's scope)


@dataclass(frozen=True)
class Size:
    """Requests and memory limit of a step; no CPU limit, so a step may use an idle core."""

    cpu: str
    memory: str
    memory_limit: str


#: Defaults, overridable per template through the chart's `resources` values.
SIZES: dict[str, Size] = {
    "calendar": Size("50m", "192Mi", "384Mi"),
    "ingest": Size("250m", "384Mi", "768Mi"),
    "load": Size("500m", "1Gi", "1536Mi"),  # DuckDB's memory_limit is 768MB (SMELT_DUCKDB_MEMORY_LIMIT)
    "transform": Size("1", "1Gi", "2Gi"),
    "publish": Size("250m", "512Mi", "1536Mi"),  # copies the marts to Parquet within DuckDB's memory_limit
    "report": Size("50m", "192Mi", "384Mi"),
}

#: Exit codes (workflows/cli/shared.py): 1 a retry may help, 2 bad arguments or settings, 3 permanent failure.
RETRYABLE_EXIT_CODE = 1
#: A step ended by a signal: 143 (SIGTERM: its pod deleted, evicted or preempted, the node drained) and 137
#: (SIGKILL: the grace period ran out, or the memory limit). Argo marks such a node Failed with that exit code,
#: not Error, when the wait container saw the exit; every step resumes by run id, so a retry is safe.
KILLED_EXIT_CODES = (137, 143)


def retry_strategy(limit: int = 3) -> RetryStrategy:
    """Retry node errors (pod lost), exit code 1 and a step killed by a signal; never 2 or 3, which a retry
    cannot fix."""
    retried = ", ".join(str(code) for code in (RETRYABLE_EXIT_CODE, *KILLED_EXIT_CODES))
    return RetryStrategy(
        limit=limit,
        retry_policy="Always",
        expression=f"lastRetry.status == 'Error' || asInt(lastRetry.exitCode) in [{retried}]",
        backoff=m.Backoff(duration="15s", factor=2, cap="5m", max_duration="30m"),
    )


def run_limit() -> m.Synchronization:
    """Workflow-level semaphore: how many smelt-daily/smelt-backfill runs may be active in the namespace.

    It also keeps `argo retry` working on Argo v4.0.5 and later: retrying a workflow whose steps used a
    semaphore crashes the controller's pass over it ("Workflow operation error") when no semaphore is held
    any more, because Release calls a method on a typed-nil status (argo-workflows#16607; the fix in
    v4.0.9 compares the interface with nil, which does not catch it). The run's own semaphore is taken
    again first when a retried run resumes, so that status is never nil. docs/kubernetes.md.
    """
    return m.Synchronization(
        semaphores=[
            m.SemaphoreRef(
                config_map_key_ref=m.ConfigMapKeySelector(name=SEMAPHORE_CONFIGMAP, key=RUNS_SEMAPHORE_KEY)
            )
        ]
    )


def _pod_security() -> m.PodSecurityContext:
    return m.PodSecurityContext(
        run_as_non_root=True,
        run_as_user=USER_ID,
        run_as_group=USER_ID,
        fs_group=USER_ID,
        seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
    )


def _container_security() -> m.SecurityContext:
    return m.SecurityContext(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        capabilities=m.Capabilities(drop=["ALL"]),
        seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
    )


def _volumes(warehouse: Warehouse) -> list[m.Volume | ExistingVolume | EmptyDirVolume | SecretVolume]:
    volumes: list[m.Volume | ExistingVolume | EmptyDirVolume | SecretVolume] = [
        EmptyDirVolume(name="tmp", mount_path="/tmp", size_limit=m.Quantity("1Gi")),  # noqa: S108
    ]
    if warehouse == "duckdb":
        volumes.append(ExistingVolume(name="home", claim_name=HOME_CLAIM, mount_path=HOME))
    else:
        volumes.append(EmptyDirVolume(name="home", mount_path=HOME, size_limit=m.Quantity("2Gi")))
        volumes.append(
            SecretVolume(
                name="snowflake-key",
                secret_name=SNOWFLAKE_SECRET,
                mount_path=SNOWFLAKE_KEY_DIR,
                read_only=True,
                default_mode=0o400,
                items=[m.KeyToPath(key=SNOWFLAKE_SECRET_KEY, path=SNOWFLAKE_SECRET_KEY)],
                optional=True,
            )
        )
    return volumes


def _env(warehouse: Warehouse, flatfiles: bool, alerts: bool) -> list[Env | SecretEnv]:
    env: list[Env | SecretEnv] = [
        Env(name="SMELT_HOME", value=HOME),
        Env(name="SMELT_WAREHOUSE", value=warehouse),
        Env(name="SMELT_LOG_FORMAT", value="json"),
        SecretEnv(
            name="POLYGON_API_KEY", secret_name=POLYGON_SECRET, secret_key=POLYGON_SECRET_KEY, optional=True
        ),
    ]
    if warehouse == "snowflake":
        key_file = f"{SNOWFLAKE_KEY_DIR}/{SNOWFLAKE_SECRET_KEY}"
        passphrase = SecretEnv(
            name="SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",  # only an encrypted key has one
            secret_name=SNOWFLAKE_SECRET,
            secret_key=SNOWFLAKE_PASSPHRASE_KEY,
            optional=True,
        )
        env += [Env(name="SNOWFLAKE_PRIVATE_KEY_PATH", value=key_file), passphrase]
    if flatfiles:  # optional: without the chart's flatfiles.enabled the step fails with exit 2, naming them
        env += [
            SecretEnv(name=key, secret_name=FLATFILES_SECRET, secret_key=key, optional=True)
            for key in FLATFILES_KEYS
        ]
    if alerts:  # optional: a release without alerts runs the same template and posts nothing
        env.append(
            SecretEnv(name=ALERTS_KEY, secret_name=ALERTS_SECRET, secret_key=ALERTS_KEY, optional=True)
        )
    return env


def step(
    name: str,
    args: list[str],
    *,
    warehouse: Warehouse,
    size: str,
    inputs: list[Parameter] | None = None,
    outputs: list[Parameter] | None = None,
    artifacts: list[Artifact] | None = None,
    calls_polygon: bool = False,
    writes_warehouse: bool = False,
    transforms: bool = False,
    reads_flatfiles: bool = False,
    posts_alerts: bool = False,
    reads_workflow: bool = False,
    labels: dict[str, str] | None = None,
    metrics: list[m.Prometheus] | None = None,
) -> Container:
    """A container template running ``smelt <args>`` with the pipeline's conventions.

    ``calls_polygon`` puts the step under the Polygon semaphore; ``writes_warehouse`` under the
    warehouse-write mutex where the warehouse needs one (DuckDB: one writer per file; Snowflake: none);
    ``transforms`` under the transform mutex on both (two dbt builds of one warehouse would race);
    ``reads_flatfiles`` gives it the flat-file keys, which no other step sees; ``posts_alerts`` the alerts'
    webhook URL, likewise; ``reads_workflow`` runs it as the one ServiceAccount that may read the Workflow.
    """
    resources = SIZES[size]
    semaphores = (
        [
            m.SemaphoreRef(
                config_map_key_ref=m.ConfigMapKeySelector(name=SEMAPHORE_CONFIGMAP, key=POLYGON_SEMAPHORE_KEY)
            )
        ]
        if calls_polygon
        else None
    )
    mutexes = [
        *([m.Mutex(name=WAREHOUSE_MUTEX)] if writes_warehouse and warehouse == "duckdb" else []),
        *([m.Mutex(name=TRANSFORM_MUTEX)] if transforms else []),
    ] or None
    return Container(
        name=name,
        image=IMAGE,
        image_pull_policy="IfNotPresent",
        command=["smelt"],
        args=args,
        inputs=inputs or [],
        outputs=[*(outputs or []), *(artifacts or [])],
        env=_env(warehouse, reads_flatfiles, posts_alerts),
        env_from=[
            ConfigMapEnvFrom(name=ENV_CONFIGMAP, optional=False),
            SecretEnvFrom(name=S3_SECRET, optional=True),
        ],
        volumes=_volumes(warehouse),
        resources=Resources(
            cpu_request=resources.cpu, memory_request=resources.memory, memory_limit=resources.memory_limit
        ),
        security_context=_container_security(),
        pod_security_context=_pod_security(),
        service_account_name=REPORT_SERVICE_ACCOUNT if reads_workflow else SERVICE_ACCOUNT,
        retry_strategy=retry_strategy(),
        synchronization=m.Synchronization(semaphores=semaphores, mutexes=mutexes)
        if semaphores or mutexes
        else None,
        labels={STEP_LABEL: name, **({POLYGON_LABEL: "true"} if calls_polygon else {}), **(labels or {})},
        metrics=m.Metrics(prometheus=[step_duration(name), *(metrics or [])]),
    )


def step_duration(name: str) -> m.Prometheus:
    """Argo custom metric: each attempt's duration, by step and outcome."""
    return m.Prometheus(
        name="smelt_step_duration_seconds",
        help="Duration of one attempt of a smelt step container.",
        labels=[m.MetricLabel(key="step", value=name), m.MetricLabel(key="status", value="{{status}}")],
        histogram=m.Histogram(
            value="{{duration}}", buckets=[m.Amount(b) for b in (5, 15, 30, 60, 120, 300, 600, 1800)]
        ),
    )
