"""`sim schema policy|scenario`: the JSON Schema of a file format, for editors.

An editor that knows the schema (VS Code's YAML extension, any yaml-language-server
client, JetBrains IDEs) completes field names, lists the allowed values of a field
(rationing rules, selection kinds, the firm attribute vocabulary), shows each part's
documentation on hover and underlines a misspelt field while it is typed.  The schema
comes from the same pydantic models that `sim validate` checks against, so the two
cannot disagree about which fields exist; `sim validate` still checks what a schema
cannot say (clause numbers against the text, dates against calls, names that must exist).
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer

from sim.policy.models import Policy
from sim.scenario.schema import ScenarioFile
from sim.scenario.uncertain import widen_json_schema

KINDS = {"policy": (Policy, "A sim policy file: one source document, clause by clause (docs/policy-format.md)"),
         "scenario": (ScenarioFile, "A sim scenario file: the policies, the firms and every assumption (scenarios/README.md)")}


def json_schema(kind: str) -> dict:
    """The JSON Schema (draft 2020-12) of a policy or scenario file."""
    model, title = KINDS[kind]
    schema = model.model_json_schema(by_alias=True)
    if kind == "scenario":
        schema = widen_json_schema(schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **schema}


def schema(kind: Annotated[Literal["policy", "scenario"], typer.Argument(help="policy or scenario.")]) -> None:
    """Print the JSON Schema of policy or scenario files, for an editor to complete and check them.

    Example: sim schema policy > docs/schema/policy.json
    """
    print(json.dumps(json_schema(kind), ensure_ascii=False, indent=2))
