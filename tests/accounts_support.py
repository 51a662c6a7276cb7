"""An invitation in a district's data, for the isolation matrix."""

from django_scopes import scope

from districts.models import Invitation, Role


def invitation_of(records) -> Invitation:
    cached = getattr(records, "_invitation", None)
    if cached is None:
        with scope(district=records.district):
            cached = Invitation.objects.create(
                district=records.district, email=f"invited@{records.district.slug}.example.org", role=Role.MENTOR,
                token_digest=f"matrix-{records.district.pk}",
            )  # fmt: skip
        records._invitation = cached
    return cached
