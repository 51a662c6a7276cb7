"""What the signed-in user may do in the district named by the URL."""

from dataclasses import dataclass, field
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import DISTRICT_WIDE_ROLES, District, Membership, Role


@dataclass(frozen=True)
class DistrictAccess:
    district: District
    membership: Membership
    roles: frozenset[str]
    school_ids_by_role: dict[str, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def for_membership(cls, membership: Membership) -> "DistrictAccess":
        grants = list(membership.grants.all())
        by_role: dict[str, set[int]] = {}
        for grant in grants:
            schools = by_role.setdefault(grant.role, set())
            if grant.school_id:
                schools.add(grant.school_id)
        return cls(
            district=membership.district,
            membership=membership,
            roles=frozenset(by_role),
            school_ids_by_role={role: frozenset(ids) for role, ids in by_role.items()},
        )

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return Role.DISTRICT_ADMIN in self.roles

    @property
    def sees_all_schools(self) -> bool:
        return bool(self.roles & DISTRICT_WIDE_ROLES)

    def school_ids(self, *roles: str) -> frozenset[int]:
        """Schools the user acts on through the given roles (all school roles when none given)."""
        wanted = roles or tuple(self.school_ids_by_role)
        return frozenset().union(*(self.school_ids_by_role.get(role, frozenset()) for role in wanted))


def role_required(*roles: str):
    """Allow members holding any of `roles`; other members get 403 (they know the district)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            access = getattr(request, "access", None)
            if access is None:
                raise Http404()
            if not access.has_role(*roles):
                raise PermissionDenied("Your role in this district does not include this page.")
            return view(request, *args, **kwargs)

        wrapper.required_roles = roles
        return wrapper

    return decorator
