"""JSON API of the merchant package under /api/v1/merchant."""

from flask_smorest import Blueprint

blp = Blueprint("merchant_api", __name__, url_prefix="/api/v1/merchant", description="merchant API")
