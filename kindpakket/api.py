"""The JSON API object (flask-smorest); its OpenAPI spec is served at /api/v1/openapi.json."""

from flask_smorest import Api

from kindpakket.inputs import IdConverter
from kindpakket.openapi import ErrorSchema, id_param_schema


class KindpakketApi(Api):  # type: ignore[misc]
    """Our error body in the spec, and no catch-all ``default`` response on operations."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


api = KindpakketApi()
api.register_converter(IdConverter, id_param_schema)
