"""Pages of the wallet package (thin: services do the work)."""

from flask import Blueprint

bp = Blueprint("wallet", __name__, url_prefix="/wallet", template_folder="templates", static_folder="static")
