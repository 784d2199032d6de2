"""JSON API of the admin package under /api/v1/admin."""

from flask_smorest import Blueprint

blp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin", description="admin API")
