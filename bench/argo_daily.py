"""Benchmark: smelt-daily (20 underlyings) under the real Argo v4.0.5 controller on the local control plane.

kwok runs no containers: every step pod "runs" for 1 s, so this measures orchestration, i.e. what Argo,
the templates and their synchronisation add around the steps, never the steps' own work. Reports, over
``--repeat`` runs: seconds from submission to Succeeded, pods per run, and the peak number of pods calling
Polygon at once against the semaphore's limit. The baseline in the same run is one single-step workflow
(smelt-load alone): the controller's floor for one pod.

    .venv/bin/python bench/argo_daily.py [--repeat 3] [--limit 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cluster.support import DAY, Cluster, peak_overlap, pod_nodes, when
from tests.tooling import CLUSTER_DIR, ROOT, control_plane_running
from workflows.settings import DEFAULT_UNDERLYINGS


def timed_run(cluster: Cluster, template: str, parameters: dict[str, str]) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    name = cluster.submit(template, parameters)
    workflow = cluster.wait(name, timeout=600)
    seconds = time.perf_counter() - started
    assert workflow["status"]["phase"] == "Succeeded", cluster.argo("get", name)
    return seconds, workflow


def polygon_peak(cluster: Cluster, name: str) -> int:
    pods = json.loads(
        cluster.kubectl(
            "get",
            "pods",
            "-l",
            f"smelt.dev/calls-polygon=true,workflows.argoproj.io/workflow={name}",
            "-o",
            "json",
        )
    )
    spans = []
    for pod in pods["items"]:
        main = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "main")
        spans.append(
            (when(pod["metadata"]["creationTimestamp"]), when(main["state"]["terminated"]["finishedAt"]))
        )
    return peak_overlap(spans)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=4, help="the Polygon semaphore (chart default 4)")
    options = parser.parse_args()

    started_here = not control_plane_running()
    subprocess.run([ROOT / "scripts" / "cluster" / "up.sh"], check=True)
    try:
        cluster = Cluster(CLUSTER_DIR / "kubeconfig", f"bench-{uuid.uuid4().hex[:6]}")
        cluster.kubectl("create", "namespace", cluster.namespace)
        cluster.install_pipeline(f"polygon.concurrency={options.limit}", "concurrentRuns=10")
        universe = json.dumps(list(DEFAULT_UNDERLYINGS))
        baseline = [timed_run(cluster, "smelt-load", {"trade-date": DAY})[0] for _ in range(options.repeat)]
        daily, pods, peaks = [], [], []
        for _ in range(options.repeat):
            seconds, workflow = timed_run(cluster, "smelt-daily", {"underlyings": universe})
            daily.append(seconds)
            pods.append(len(pod_nodes(workflow)))
            peaks.append(polygon_peak(cluster, workflow["metadata"]["name"]))
        base, day = statistics.median(baseline), statistics.median(daily)
        print(f"baseline smelt-load (1 pod): median {base:.1f}s of {[round(s, 1) for s in baseline]}")
        print(
            f"smelt-daily, {len(DEFAULT_UNDERLYINGS)} underlyings: median {day:.1f}s of {[round(s, 1) for s in daily]}"
            f"  ratio to baseline {day / base:.1f}"
        )
        print(f"pods per daily run: {pods}")
        print(f"peak concurrent Polygon-calling pods: {peaks} (semaphore limit {options.limit})")
        cluster.kubectl("delete", "workflows", "--all", "--wait=false")
    finally:
        if started_here:
            subprocess.run([ROOT / "scripts" / "cluster" / "down.sh"], check=False)


if __name__ == "__main__":
    main()
