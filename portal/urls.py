from django.contrib import admin
from django.urls import path

from portal import views

admin.site.site_header = "Doppel administration"
admin.site.site_title = "Doppel admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
