"""The pipeline's small parts: which environments a change affects, the deploy job graph on a synthetic stack graph,
the job-summary tables, the docs region, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.cli.main import main
from ops.core.errors import UsageError
from ops.pipeline import jobs, render, summary
from ops.pipeline.actions import PINS
from ops.pipeline.affected import affected, changed_paths, documentation_globs

ENVS = ["dev", "prod"]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["config/environments/prod.toml"], ["prod"]),
        (["config/environments/prod.toml", "config/environments/dev.toml"], ["dev", "prod"]),
        (["config/environments/dev.toml", "docs/operations.md", "README.md"], ["dev"]),
        (["docs/pipeline.md"], []),
        (["README.md", "docs/security.md"], []),
        ([], []),
        (["ops/deploy/engine.py"], ENVS),
        (["config/environments/dev.toml", "stacks/network.py"], ENVS),
        (["config/schema.py"], ENVS),
        ([".github/workflows/deploy.yml"], ENVS),
        (["docs/images/graph.png"], ENVS),
        (["config/environments/notes.md"], ENVS),
    ],
)
def test_affected_environments(paths: list[str], expected: list[str]) -> None:
    assert affected(paths, ENVS) == expected


def test_the_deploy_workflow_skips_exactly_what_plans_nothing(project_root: Path) -> None:
    deploy = (project_root / render.WORKFLOWS_DIR / "deploy.yml").read_text()
    assert documentation_globs() == ["*.md", "docs/*.md"]
    assert "    paths-ignore:\n    - '*.md'\n    - docs/*.md\n" in deploy


def test_changed_paths_against_head_is_empty_and_a_bad_base_is_named() -> None:
    assert changed_paths("HEAD") == []
    with pytest.raises(UsageError, match=r"--base 'no-such-revision' is not a revision"):
        changed_paths("no-such-revision")


def test_pipeline_affected_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline-affected", "--base", "HEAD"]) == 0
    assert json.loads(capsys.readouterr().out) == []


SYNTHETIC = {"a-base": [], "b-left": ["a-base"], "c-right": ["a-base"], "d-top": ["b-left", "c-right"]}


def test_a_diamond_graph_becomes_parallel_jobs_and_a_chained_second_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs, "ordered_stacks", list)  # synthetic names are not platform stacks
    graph = {job.job_id: job.needs for job in jobs.deploy_jobs(SYNTHETIC, ["one", "two"])}
    assert graph == {
        "one-a-base": (),
        "one-b-left": ("one-a-base",),
        "one-c-right": ("one-a-base",),
        "one-d-top": ("one-b-left", "one-c-right"),
        "two-a-base": ("one-d-top",),
        "two-b-left": ("two-a-base",),
        "two-c-right": ("two-a-base",),
        "two-d-top": ("two-b-left", "two-c-right"),
    }


def test_the_job_graph_is_drawn_with_every_edge() -> None:
    deploy = [jobs.StackJob("dev-x", "dev", "x", ()), jobs.StackJob("prod-x", "prod", "x", ("dev-x",))]
    drawing = jobs.mermaid(deploy)
    assert drawing.splitlines() == [
        "```mermaid",
        "flowchart LR",
        "  subgraph dev",
        '    dev_x["x"]',
        "  end",
        "  subgraph prod",
        '    prod_x["x"]',
        "  end",
        "  dev_x --> prod_x",
        "```",
    ]


def test_an_apply_summary_becomes_a_table() -> None:
    document = {
        "stacks": [
            {"stack": "network-primary", "result": "ok", "added": 3, "changed": 0, "destroyed": 0, "seconds": 12.34}
        ],
        "ok": True,
    }
    assert summary.table("dev: network-primary", document).splitlines() == [
        "### dev: network-primary",
        "",
        "| stack | result | added | changed | destroyed | seconds |",
        "|---|---|---|---|---|---|",
        "| network-primary | ok | 3 | 0 | 0 | 12.3 |",
    ]


def test_a_drift_summary_lists_what_changed(tmp_path: Path) -> None:
    document = {
        "stacks": [
            {
                "stack": "data-primary",
                "status": "drifted",
                "objects": ["aws_s3_bucket.a", "aws_kms_key.b"],
                "seconds": 1.0,
            },
            {"stack": "dns-primary", "status": "clean", "objects": [], "seconds": 2.0},
        ],
        "exit_code": 2,
    }
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(document))
    rows = summary.from_file(path, "drift: dev").splitlines()[4:]
    assert rows == [
        "| data-primary | drifted | aws_s3_bucket.a, aws_kms_key.b | 1.0 |",
        "| dns-primary | clean | - | 2.0 |",
    ]


def test_a_missing_or_empty_summary_is_a_note_not_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "apply.json"
    empty.write_text("")
    assert "is missing or not JSON" in summary.from_file(empty, "x")
    assert "no stack was reported" in summary.table("x", {"stacks": []})
    assert main(["pipeline-summary", str(tmp_path / "absent.json"), "--title", "dev: dns-primary"]) == 0
    assert capsys.readouterr().out.startswith("### dev: dns-primary\n")


def test_the_docs_region_is_replaced_and_its_absence_named() -> None:
    text = f"intro\n{render.BEGIN}\nold\n{render.END}\nrest\n"
    assert render.fill(text, "NEW") == f"intro\n{render.BEGIN}\nNEW\n{render.END}\nrest\n"
    with pytest.raises(render.PipelineDocError, match="no region for the deploy job graph"):
        render.fill("no markers\n", "NEW")


def test_the_yaml_has_plain_on_pinned_comments_and_literal_scripts() -> None:
    text = render.to_yaml(
        {
            "on": {"push": {}},
            "jobs": {
                "j": {
                    "permissions": {"contents": "read"},
                    "steps": [{"uses": PINS[0].uses}, {"run": "a\nb\n"}],
                }
            },
        }
    )
    assert text.startswith(render.HEADER + "on:\n")
    assert f"uses: {PINS[0].uses} # {PINS[0].tag}\n" in text
    assert "      contents: read # check out the repository\n" in text
    assert "    - run: |\n        a\n        b\n" in text
