"""One error body for every 4xx/5xx of the API: {"error": {"status", "code", "detail"}}."""
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        detail = detail["detail"]
    response.data = {"error": {"status": response.status_code, "code": code, "detail": detail}}
    return response
