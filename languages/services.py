from django.conf import settings
from django.core.exceptions import ValidationError


def user_language_set(*, user, language: str) -> None:
    """Save the interface language a person chose ("" goes back to the browser's)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": f"Unknown language {language!r}."})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
