from django.shortcuts import render

from answering.selectors import line_list


def portal_home(request):
    """The client company's portal landing page (gate 1 has already admitted the user)."""
    return render(request, "answering/portal_home.html", {"company": request.tenant, "lines": line_list()})
