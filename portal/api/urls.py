"""/api/ — one router for every viewset, the OpenAPI schema and Swagger UI."""
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from portal.api import views

router = DefaultRouter()
router.register("stars", views.StarViewSet, basename="star")
router.register("bhb-candidates", views.BHBCandidateViewSet, basename="bhb-candidate")
router.register("models", views.ModelVersionViewSet, basename="model")
router.register("training-runs", views.TrainingRunViewSet, basename="training-run")

urlpatterns = [
    path("twins", views.TwinUploadView.as_view(), name="twins-upload"),
    path("token", views.TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
    re_path(r"^.*$", views.NotFoundView.as_view()),  # anything else under /api/: the API's JSON 404, not the HTML page
]
