from django.urls import path

from answering.api.views import LineListApi

urlpatterns = [
    path("lines/", LineListApi.as_view(), name="api-line-list"),
]
