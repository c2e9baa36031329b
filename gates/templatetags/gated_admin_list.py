"""`{% gated_result_list cl %}`: the gated changelist's table, its rows built by gates.admin_list.

The headers are Django's (`result_headers`), the same sort links and classes; a list with editable
columns (a formset) keeps Django's own renderer."""

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_list
from django.template.loader import render_to_string

from gates.admin_list import GatedChangeList, rows_html

register = template.Library()


@register.simple_tag
def gated_result_list(cl):
    if cl.formset or not isinstance(cl, GatedChangeList):
        return render_to_string("admin/change_list_results.html", result_list(cl))
    headers = list(result_headers(cl))
    context = {
        "cl": cl,
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows_html(cl),
    }
    return render_to_string("admin/gated/change_list_results.html", context)
