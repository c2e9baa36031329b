from django.http import HttpResponseNotFound


def unknown_host(request):
    """A host that routes to no client company: a bare 404, with no trace and no data."""
    return HttpResponseNotFound("<h1>Not found</h1>", content_type="text/html")


def not_found(request, exception=None):
    """The 404 of a client company's host (`handler404`): JSON under /api/, as every other API
    answer is, and Django's own page elsewhere."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
