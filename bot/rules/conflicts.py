"""What the reviewers' card points out about an applicant beyond the answers: the guide's
rule against third-party developers in self-built roles, and one credit code registered
under different company names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.rules.models import IDENTITY_ROLES, Role, Status

#: The self-built roles (the guide, §3): apps for the applicant's own store or identity.
SELF_BUILT = IDENTITY_ROLES


def isv_in_self_built_role(role: Role, others: Iterable[tuple[Role, Status]]) -> bool:
    """The guide (§3): a third-party developer must not apply for a self-built role (the
    app and the registration are removed). True when this registration and another of the
    same account, submitted at least once, are a third-party developer's and a self-built
    role's; an unsubmitted draft is no application yet."""
    applied = {other for other, status in others if status is not Status.DRAFT}
    if role in SELF_BUILT:
        return Role.ISV in applied
    return role is Role.ISV and bool(applied & SELF_BUILT)


_SPACES = re.compile(r"\s+")


def company_key(name: str) -> str:
    """A company name as compared: width (（） vs ()), case and spaces do not count."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name)).casefold()
