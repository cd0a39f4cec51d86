"""OpenAPI additions: every operation documents the error responses it can give."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of this API.",
    "properties": {
        "detail": {"type": "string", "description": "A human summary of what went wrong."},
        "code": {
            "type": "string",
            "description": "A stable machine code, e.g. invalid, not_found.",
        },
        "fields": {
            "type": "object",
            "description": "Field-level messages for validation errors (field → messages).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code", "fields"],
}

_DESCRIPTIONS = {
    "400": "Invalid input: see `fields` for each problem. Nothing was written.",
    "401": "No valid credentials (session or `Authorization: Token <key>`).",
    "403": "Your role in this mission does not allow this.",
    "404": "No such object among the missions you belong to.",
    "412": "`If-Match` no longer matches: the object changed since you read it. Nothing was written.",
    "413": "The request body (or the number of rows) is over the limit.",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error responses to every operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = ["401", "403"]
            if "{" in path:
                codes.append("404")
            if method in ("post", "put", "patch"):
                codes += ["400", "413"]
            if method in ("put", "patch", "delete") and "{" in path:
                codes.append("412")
            if method == "get":
                codes.append("400")  # bad filter or page values
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
    return result
