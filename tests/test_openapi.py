"""The public API is reviewed deliberately: the generated schema must equal the committed
`openapi.json`. After an intended change run `python3 tasks.py openapi` and commit the diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bank_api.config import Settings
from bank_api.main import create_app

COMMITTED = Path(__file__).resolve().parents[1] / "openapi.json"


def generated_schema() -> dict[str, Any]:
    app = create_app(
        Settings(
            _env_file=None,
            environment="test",  # type: ignore[call-arg]
            jwt_secret="s" * 40,
        )
    )
    return app.openapi()


def write_schema() -> None:
    COMMITTED.write_text(json.dumps(generated_schema(), indent=2, sort_keys=True) + "\n")


def test_generated_schema_matches_the_committed_openapi_json() -> None:
    committed = json.loads(COMMITTED.read_text())
    assert generated_schema() == committed, "public API changed: run `python3 tasks.py openapi`"


def test_money_fields_are_decimal_strings_in_responses() -> None:
    schemas = generated_schema()["components"]["schemas"]
    for name, field in (
        ("LoanRead", "amount"),
        ("PortfolioRead", "available"),
        ("PaymentRead", "interest"),
        ("MovementRead", "amount"),
    ):
        prop = schemas[name]["properties"][field]
        assert (prop["type"], prop["format"]) == ("string", "decimal"), (name, field)


def test_errors_are_documented_as_problem_details() -> None:
    schema = generated_schema()
    assert {"Problem", "ValidationProblem"} <= set(schema["components"]["schemas"])
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    checked = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "responses" in operation, (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
                    checked += 1
    assert checked > 50


def test_every_json_request_body_has_an_example() -> None:
    schema = generated_schema()
    components = schema["components"]["schemas"]
    bodies = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                bodies += 1
                body = content["application/json"]["schema"]
                ref = body.get("$ref") or next(o["$ref"] for o in body["anyOf"] if "$ref" in o)
                name = ref.rsplit("/", 1)[1]
                assert components[name].get("examples"), (method, path, name)
    assert bodies >= 12
