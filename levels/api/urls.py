from django.urls import path

from levels.api.views import ServiceLevelApi

urlpatterns = [
    path("service-levels/", ServiceLevelApi.as_view(), name="api-service-levels"),
]
