"""JSON API of the wallet package under /api/v1/wallet."""

from flask_smorest import Blueprint

blp = Blueprint("wallet_api", __name__, url_prefix="/api/v1/wallet", description="wallet API")
