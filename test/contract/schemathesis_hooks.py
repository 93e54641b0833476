"""Schemathesis hooks for the shop (loaded through SCHEMATHESIS_HOOKS by test/contract/schemathesis.test.ts).

`validator_agrees_with_document` refines the built-in `positive_data_acceptance` check, which the
run switches off: a request the OpenAPI document calls valid may still be refused with 422 by a
business rule no JSON Schema can state (an empty cart, a card failing the Luhn check, a wrong
current password, a list more than 10,000 rows deep, minPrice above maxPrice, a password of
more than 72 bytes or on the list of common ones), but never by the request validator itself (a field too long, a pattern,
a missing field, an unknown one): that would mean the document and the validator disagree,
which is exactly what the document is generated to prevent. Every other status is judged as the
built-in check judges it.
"""
import json

import schemathesis
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case

# The error types of fastest-validator's own rules: a refusal of one of these for schema-valid
# data is a disagreement between the document and the validator.
VALIDATOR_TYPES = {
    "required", "string", "stringEmpty", "stringMin", "stringMax", "stringLength", "stringPattern",
    "stringEnum", "number", "numberMin", "numberMax", "numberEqual", "numberNotEqual", "numberInteger",
    "numberPositive", "numberNegative", "boolean", "array", "arrayEmpty", "arrayMin", "arrayMax",
    "arrayLength", "arrayUnique", "arrayEnum", "enumValue", "equalValue", "object", "objectStrict",
    "objectMinProps", "objectMaxProps", "record", "uuid", "email", "url", "date",
}
# 413 and 415: an upload refused for its size or its content (not a JPEG, PNG, WebP or AVIF by its
# bytes), which no JSON Schema of a binary field can state.
ACCEPTED = set(range(200, 400)) | {401, 403, 404, 409, 413, 415, 429}


@schemathesis.check
def validator_agrees_with_document(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    status = response.status_code
    if status in ACCEPTED or status >= 500:
        return None  # 5xx are not_a_server_error's
    if status != 422:
        raise AssertionError(f"Schema-valid request answered {status}: {response.text[:500]}")
    try:
        problems = (json.loads(response.text) or {}).get("data") or []
    except ValueError:
        raise AssertionError(f"422 without a JSON body: {response.text[:200]}")
    types = {p.get("type") for p in problems if isinstance(p, dict)}
    if not types or types & VALIDATOR_TYPES:
        raise AssertionError(f"Schema-valid request refused by the request validator (the document and the validator disagree): {response.text[:500]}")
    return None
