"""Pages of the merchant package (thin: services do the work)."""

from flask import Blueprint

bp = Blueprint("merchant", __name__, url_prefix="/merchant", template_folder="templates", static_folder="static")
