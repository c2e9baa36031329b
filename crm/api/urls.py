"""REST API v1 routes of this app (included by config/api_v1.py)."""

urlpatterns = []
