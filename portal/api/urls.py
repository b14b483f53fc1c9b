"""/api/ — one router for every viewset, the OpenAPI schema and Swagger UI."""
from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from portal.api import views

router = DefaultRouter()
router.register("stars", views.StarViewSet, basename="star")
router.register("bhb-candidates", views.BHBCandidateViewSet, basename="bhb-candidate")
router.register("peculiar-stars", views.PeculiarStarViewSet, basename="peculiar-star")
router.register("chemical-groups", views.ChemicalGroupViewSet, basename="chemical-group")
router.register("models", views.ModelVersionViewSet, basename="model")
router.register("training-runs", views.TrainingRunViewSet, basename="training-run")


def without_slash(view):
    """``view`` at its first, slash-less address (kept for scripts written against it), left out of
    the OpenAPI schema: every documented path ends in a slash."""
    return extend_schema(exclude=True)(type(f"SlashLess{view.__name__}", (view,), {})).as_view()


urlpatterns = [
    path("twins/", views.TwinUploadView.as_view(), name="twins-upload"),
    path("token/", views.TokenView.as_view(), name="api-token"),
    path("twins", without_slash(views.TwinUploadView)),
    path("token", without_slash(views.TokenView)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
    re_path(r"^.*$", views.NotFoundView.as_view()),  # anything else under /api/: the API's JSON 404, not the HTML page
]
