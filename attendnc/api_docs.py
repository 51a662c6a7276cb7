"""The API's docs page: Swagger UI served from the sidecar package, started by a static script.

drf-spectacular's own template starts Swagger UI with an inline <script> and <style>, which the
site's Content-Security-Policy (script-src/style-src 'self') refuses; this page passes the
schema URL and CSRF token as data attributes instead, so the policy needs no exception.

Signing in is required for the page and the schema. Neither holds district data, but the list of
routes and fields of a system of education records is reconnaissance we need not hand out, and
every legitimate reader (staff, a district's integrator) has an account.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse


@login_required
def api_docs(request):
    csrf_header = settings.CSRF_HEADER_NAME.removeprefix("HTTP_").replace("_", "-")
    return render(request, "api/docs.html", {"schema_url": reverse("api_schema"), "csrf_header": csrf_header})
