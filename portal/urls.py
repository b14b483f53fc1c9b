from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from portal import health, vo
from portal.api.throttling import LoginThrottle
from portal.web import views as web

admin.site.site_header = "Doppel administration"
admin.site.site_title = "Doppel admin"


def admin_login(request, extra_context=None):
    """The admin's sign-in, with sign-in attempts throttled per client (``DOPPEL_LOGIN_RATE``)."""
    if request.method == "POST" and not LoginThrottle().allow_request(request, None):
        return HttpResponse("Too many sign-in attempts from this address; try again in a minute.\n", status=429,
                            content_type="text/plain; charset=utf-8")
    return admin.site.login(request, extra_context)


urlpatterns = [
    path("", web.home, name="home"),
    path("stars/<int:star_id>/", web.star_detail, name="star"),
    path("stars/<int:star_id>/twins/", web.star_twins, name="star-twins-page"),
    path("stars/<int:star_id>/spectrum.png", web.spectrum_thumbnail, name="spectrum-png"),
    path("stars/<int:star_id>/cutout.png", web.cutout_thumbnail, name="cutout-png"),
    path("stars/<int:star_id>/bands.png", web.cutout_thumbnail, {"layout": "bands"}, name="bands-png"),
    path("twins/upload/", web.twins_upload, name="twins-upload-page"),
    path("latent-map/", web.latent_map, name="latent-map"),
    path("bhb/", web.bhb_candidates, name="bhb-candidates"),
    path("peculiar/", web.peculiar_stars, name="peculiar-stars"),
    path("groups/", web.chemical_groups, name="chemical-groups"),
    path("groups/<int:group>/", web.chemical_group, name="chemical-group"),
    path("models/", web.models, name="models"),
    path("vo/scs", vo.cone_search, name="vo-scs"),
    path("tap/", web.vo_services, name="vo-services"),  # the services' page; the TAP endpoints below it
    path("tap/", include("portal.tap")),
    # The same endpoints under a base URL copied with its slash ("/tap/" from the page's address):
    # VO clients append "/sync", "/tables", … to it. Their answers name the canonical /tap URLs.
    path("tap//", include(("portal.tap", "tap"), namespace="tap-base-with-slash")),
    path("api/", include("portal.api.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
]
