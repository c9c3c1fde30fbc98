"""Least privilege in the rendered pipeline chart: reading a run's Workflow (the exit handler's step times,
decision 115) is granted to the report ServiceAccount alone, and only the exit handler runs as it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.manifests.support import SCENARIOS, documents, helm_template, scenario_id
from workflows.argo import pod

pytestmark = pytest.mark.tools  # helm


def _grants(rule: dict[str, Any], verb: str, group: str, resource: str) -> bool:
    return all(
        want in rule.get(key, []) or "*" in rule.get(key, [])
        for key, want in (("verbs", verb), ("apiGroups", group), ("resources", resource))
    )


def accounts_that_may(docs: list[dict[str, Any]], verb: str, group: str, resource: str) -> set[str]:
    """ServiceAccounts bound (RoleBinding or ClusterRoleBinding) to a role granting ``verb`` on ``resource``."""
    roles = {
        (d["kind"], d["metadata"]["name"]): d.get("rules") or []
        for d in docs
        if d["kind"] in ("Role", "ClusterRole")
    }
    found = set()
    for binding in (d for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        rules = roles.get((binding["roleRef"]["kind"], binding["roleRef"]["name"]), [])
        if any(_grants(rule, verb, group, resource) for rule in rules):
            found |= {s["name"] for s in binding["subjects"] if s["kind"] == "ServiceAccount"}
    return found


def step_accounts(docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Each ServiceAccount a step container runs as, with the step templates that use it."""
    used: dict[str, set[str]] = {}
    for doc in docs:
        if doc["kind"] not in ("WorkflowTemplate", "CronWorkflow"):
            continue
        spec = doc["spec"].get("workflowSpec", doc["spec"])
        for template in spec.get("templates", []):
            if "container" in template:
                account = template.get("serviceAccountName", spec.get("serviceAccountName"))
                used.setdefault(account, set()).add(template["name"])
    return used


@pytest.mark.parametrize("values", SCENARIOS, ids=scenario_id)
def test_only_the_report_account_may_get_workflows_and_only_the_exit_handler_runs_as_it(
    values: Path | None,
) -> None:
    docs = documents(helm_template(values))
    assert accounts_that_may(docs, "get", "argoproj.io", "workflows") == {pod.REPORT_SERVICE_ACCOUNT}
    # the executor's own need holds for both accounts: each step writes its WorkflowTaskResult
    assert accounts_that_may(docs, "create", "argoproj.io", "workflowtaskresults") == {
        pod.SERVICE_ACCOUNT, pod.REPORT_SERVICE_ACCOUNT
    }  # fmt: skip
    assert not accounts_that_may(docs, "list", "argoproj.io", "workflows")  # get its own run, list none
    assert not accounts_that_may(docs, "get", "", "secrets")
    used = step_accounts(docs)
    assert used[pod.REPORT_SERVICE_ACCOUNT] == {"report"}
    assert "report" not in used[pod.SERVICE_ACCOUNT]
    accounts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ServiceAccount"}
    assert accounts[pod.REPORT_SERVICE_ACCOUNT]["automountServiceAccountToken"] is True  # it reads its token


def test_a_second_release_binds_its_own_report_account() -> None:
    docs = documents(helm_template(None, "--set", "fullnameOverride=research-smelt"))
    assert accounts_that_may(docs, "get", "argoproj.io", "workflows") == {"research-smelt-report"}
    assert step_accounts(docs)["research-smelt-report"] == {"report"}


def test_the_check_sees_a_grant_to_the_workflow_account() -> None:
    """The check can fail: a rule giving the steps' Role `get` on workflows is found."""
    docs = documents(helm_template(None))
    role = next(d for d in docs if (d["kind"], d["metadata"]["name"]) == ("Role", pod.SERVICE_ACCOUNT))
    role["rules"].append({"apiGroups": ["argoproj.io"], "resources": ["*"], "verbs": ["get"]})
    assert accounts_that_may(docs, "get", "argoproj.io", "workflows") == {
        pod.SERVICE_ACCOUNT, pod.REPORT_SERVICE_ACCOUNT
    }  # fmt: skip
