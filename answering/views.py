import datetime as dt

from django.shortcuts import render
from django.utils import timezone

from answering.selectors import line_list
from scheduling.selectors import company_zone, rota_gaps


def portal_home(request):
    """The client company's portal landing page (gate 1 has already admitted the user)."""
    now = timezone.now()
    zone = company_zone()
    lines = []
    for line in line_list():
        gaps = [
            (a.astimezone(zone), b.astimezone(zone))
            for a, b in rota_gaps(line=line, start=now, end=now + dt.timedelta(days=7))
        ]
        lines.append((line, gaps))
    return render(request, "answering/portal_home.html", {"company": request.tenant, "lines": lines})
