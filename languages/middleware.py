"""Which language a request is answered in.

A signed-in person's saved choice wins (they chose it in the header's switch, on any device);
otherwise the language cookie the switch sets, then the browser's Accept-Language, as Django's
LocaleMiddleware does. It sits after AuthenticationMiddleware so the user is known.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class UserLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        preferred = _user_language(request)
        if preferred is None:
            return super().process_request(request)
        translation.activate(preferred)
        request.LANGUAGE_CODE = translation.get_language()


def _user_language(request) -> str | None:
    user = getattr(request, "user", None)
    language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
    return language if language in dict(settings.LANGUAGES) else None
