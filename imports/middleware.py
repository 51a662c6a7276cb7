"""Refuse an import upload larger than settings.IMPORT_MAX_UPLOAD_BYTES before its body is read.

Django writes an upload to disk before any view sees it, so a form check alone would let a 5 GB
request fill the disk first. The request's declared length is checked here, ahead of the CSRF
middleware that reads the body; the form and the API check the files again (a request may be
chunked, without a length)."""

from django.conf import settings
from django.http import HttpResponse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

# Room for the multipart envelope and the form's other fields around the files.
ENVELOPE_BYTES = 1024 * 1024


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and "/imports/" in request.path:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.IMPORT_MAX_UPLOAD_BYTES
            if length > limit + ENVELOPE_BYTES:
                message = _(
                    "The upload is %(size)s MB; imports take at most %(limit)s MB. Split the export into "
                    "several uploads (attendance by month, for instance) or run it with manage.py import_sis."
                ) % {"size": number_format(length / 1024**2, 1), "limit": number_format(limit / 1024**2, 0)}
                return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
