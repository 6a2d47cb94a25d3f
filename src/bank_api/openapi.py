"""OpenAPI post-processing: errors are documented as RFC 9457 problems.

FastAPI documents validation errors as `application/json` `HTTPValidationError`; this service
answers them as `application/problem+json` `ValidationProblem`, so the schema says so, and the
`Problem` schemas are registered once under `components`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from bank_api.common.query import document_queries
from bank_api.problems import PROBLEM_MEDIA_TYPE, Problem, ValidationProblem

REF = "#/components/schemas/{model}"
_VALIDATION = {
    "description": "`validation_error`: the request is not valid (see `errors`)",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}},
}


def operation_id(route: Any) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _validation(documented: dict[str, Any]) -> dict[str, Any]:
    """A route's 422: always `validation_error`, plus any 422 codes of its own (`Problem`)."""
    content = documented.get("content", {})
    if PROBLEM_MEDIA_TYPE not in content:  # FastAPI's default: only validation errors
        return _VALIDATION
    either = {
        "anyOf": [
            {"$ref": "#/components/schemas/ValidationProblem"},
            {"$ref": "#/components/schemas/Problem"},
        ]
    }
    return {
        "description": f"{_VALIDATION['description']}; {documented['description']}",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": either}},
    }


def _register(schemas: dict[str, Any]) -> None:
    for model in (Problem, ValidationProblem):
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def install_openapi(app: FastAPI, routes: Iterable[tuple[str, APIRoute]]) -> None:
    """`routes`: the app's routes, each with its full path (for `document_queries`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        document_queries(schema, routes)
        _register(schema.setdefault("components", {}).setdefault("schemas", {}))
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = _validation(responses["422"])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
