"""The suite itself: every rule names the AWS document it encodes."""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).parent
DOCUMENT = "https://docs.aws.amazon.com/"


def rule_tests() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for module in sorted(HERE.glob("test_*.py")):
        if module.name == Path(__file__).name:
            continue
        tree = ast.parse(module.read_text())
        found += [(module.name, node) for node in tree.body if isinstance(node, ast.FunctionDef)]
    return [(name, node) for name, node in found if node.name.startswith("test_")]


def test_every_rule_names_the_aws_document_it_encodes() -> None:
    rules = rule_tests()
    assert len(rules) >= 1, "count guard: no rule tests found"
    unnamed = [f"{module}::{node.name}" for module, node in rules if DOCUMENT not in (ast.get_docstring(node) or "")]
    assert unnamed == [], f"rule tests whose docstring names no {DOCUMENT} page: {unnamed}"
