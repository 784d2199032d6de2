"""The JSON API object (flask-smorest); its OpenAPI spec is served at /api/v1/openapi.json."""

from flask_smorest import Api

api = Api()
