"""skaffold.yaml against the skaffold/v4beta14 JSON schema kept in tests/schemas/skaffold (skaffold itself
does not build here)."""

from __future__ import annotations

import json

import jsonschema
import yaml

from tests.tooling import ROOT, SCHEMAS


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((SCHEMAS / "skaffold" / "v4beta14.json").read_text()))


def test_every_config_of_skaffold_yaml_is_valid() -> None:
    configs = list(yaml.safe_load_all((ROOT / "skaffold.yaml").read_text()))
    assert [c["metadata"]["name"] for c in configs] == ["pipeline", "dashboard"]
    for config in configs:
        assert config["apiVersion"] == "skaffold/v4beta14"
        errors = [e.message for e in _validator().iter_errors(config)]
        assert not errors, errors


def test_it_builds_the_images_and_deploys_the_charts_it_names() -> None:
    pipeline = next(yaml.safe_load_all((ROOT / "skaffold.yaml").read_text()))
    (artifact,) = pipeline["build"]["artifacts"]
    assert (ROOT / artifact["docker"]["dockerfile"]).is_file()
    (release,) = pipeline["manifests"]["helm"]["releases"]
    assert release["name"] == "smelt"  # the release whose object names the docs and `smelt argo submit` use
    assert (ROOT / release["chartPath"] / "Chart.yaml").is_file()
    assert all((ROOT / f).is_file() for f in release["valuesFiles"])
    assert release["setValueTemplates"]["image.repository"] == "{{.IMAGE_REPO_smelt_pipeline}}"


def test_the_schema_check_can_fail() -> None:
    config = next(yaml.safe_load_all((ROOT / "skaffold.yaml").read_text()))
    config["build"]["artifacts"][0]["dockerfil"] = "typo"
    assert list(_validator().iter_errors(config))
