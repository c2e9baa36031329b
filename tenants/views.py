from django.http import HttpResponseNotFound


def unknown_host(request):
    """A host that routes to no client company: a bare 404, with no trace and no data."""
    return HttpResponseNotFound("<h1>Not found</h1>", content_type="text/html")
