"""Which sites a coordinator's level and scope cover (tikabot/store/scope.py)."""
from __future__ import annotations

from tikabot.store.models import Site, Staff
from tikabot.store.scope import scope_of


def coordinator(**fields) -> Staff:
    return Staff(phone="+919830000001", name="C", role="coordinator", **fields)


def covered(services, staff_fields, sites):
    with services.transaction() as s:
        rows = [Site(code=code, name=code, district=district, state=state) for code, district, state in sites]
        s.add_all(rows)
        s.flush()
        fields = dict(staff_fields)
        if "site" in fields:
            code = fields.pop("site")
            fields["site_id"] = next(r.id for r in rows if r.code == code)
        scope = scope_of(s, coordinator(**fields))
        return {r.code for r in rows if scope.covers(r.id)}


TWO = [("KAL", "Nadia", "WB"), ("RAN", "nadia ", "WB"), ("SIL", "Darjeeling", "WB"), ("PAT", "Patna", "Bihar")]


def test_each_level_covers_its_own_sites(services):
    assert covered(services, {"level": "district", "scope": "NADIA"}, TWO) == {"KAL", "RAN"}


def test_a_district_coordinator_with_a_site_covers_that_sites_district(services):
    assert covered(services, {"site": "SIL"}, TWO) == {"SIL"}


def test_a_site_coordinator_covers_their_site_only(services):
    assert covered(services, {"level": "mobiliser", "site": "KAL"}, TWO) == {"KAL"}


def test_a_state_coordinator_covers_the_named_state_or_everything(services):
    assert covered(services, {"level": "state", "scope": "wb"}, TWO) == {"KAL", "RAN", "SIL"}


def test_a_state_coordinator_with_no_state_named_covers_everything(services):
    assert covered(services, {"level": "state"}, TWO) == {"KAL", "RAN", "SIL", "PAT"}


def test_no_level_and_no_scope_covers_nothing_among_several_districts(services):
    assert covered(services, {}, TWO) == set()


def test_no_level_and_no_scope_covers_the_one_district_even_unnamed(services):
    """A deployment that never filled sites.csv's district keeps its coordinators' view."""
    assert covered(services, {}, [("KAL", "", ""), ("RAN", "", "")]) == {"KAL", "RAN"}
