import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.models import User
from programs.models import Completion, Enrolment, Program
from programs.reminders.services import reminder_schedule_refresh
from tests.api.conftest import as_partner
from tests.factories import EnrolmentFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

MEMBER = {"external_id": "patient-17", "email": "Pat@Clinic.example", "display_name": "Pat", "timezone": "Europe/Paris"}


@pytest.fixture
def clinic(partner, now):
    client = as_partner(partner)
    client.get("/api/v1/partner/members/")  # first use records last_used_at: keep that write out of counts
    return client


def test_it_creates_a_member_the_partner_manages(clinic, partner):
    response = clinic.post("/api/v1/partner/members/", MEMBER, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["external_id"] == "patient-17"
    assert body["email"] == "Pat@clinic.example"
    assert body["timezone"] == "Europe/Paris"
    member = User.objects.get(pk=body["id"])
    assert member.partner == partner
    assert not member.has_usable_password()


def test_it_refuses_an_external_id_the_partner_already_uses(clinic, partner_member):
    response = clinic.post("/api/v1/partner/members/", {**MEMBER, "external_id": "p-1"}, format="json")

    assert response.status_code == 409
    assert response.json()["errors"] == {"external_id": ["You already have a member with this external id."]}


def test_it_lets_two_partners_use_the_same_external_id(clinic, partner_b_member):
    response = clinic.post("/api/v1/partner/members/", {**MEMBER, "external_id": "p-1"}, format="json")

    assert response.status_code == 201


def test_it_refuses_an_email_already_registered(clinic, alice):
    response = clinic.post("/api/v1/partner/members/", {**MEMBER, "email": alice.email.upper()}, format="json")

    assert response.status_code == 409
    assert "email" in response.json()["errors"]
    assert User.objects.filter(partner__isnull=False).count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"external_id": "has space"}, "external_id"),
        ({"external_id": ""}, "external_id"),
        ({"email": "not-an-email"}, "email"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"partner": 3}, "partner"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_it_refuses_bad_member_fields(clinic, change, field):
    response = clinic.post("/api/v1/partner/members/", {**MEMBER, **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not User.objects.filter(external_id=MEMBER["external_id"]).exists()


def test_it_lists_only_the_partners_own_members(clinic, partner_member, partner_b_member, alice):
    results = clinic.get("/api/v1/partner/members/").json()["results"]

    assert [m["id"] for m in results] == [partner_member.pk]
    assert clinic.get("/api/v1/partner/members/?external_id=p-1").json()["count"] == 1
    assert clinic.get("/api/v1/partner/members/?external_id=nope").json()["count"] == 0
    assert clinic.get(f"/api/v1/partner/members/{partner_b_member.pk}/").status_code == 404
    assert clinic.get(f"/api/v1/partner/members/{alice.pk}/").status_code == 404


def test_it_updates_a_member(clinic, partner_member):
    response = clinic.patch(
        f"/api/v1/partner/members/{partner_member.pk}/",
        {"timezone": "Asia/Tokyo", "email": "new@clinic.example"},
        format="json",
    )

    assert response.status_code == 200
    partner_member.refresh_from_db()
    assert (partner_member.timezone, partner_member.email) == ("Asia/Tokyo", "new@clinic.example")


def test_a_new_timezone_moves_the_members_next_reminder_to_its_local_time(clinic, partner_member, program):
    partner_member.timezone = "Europe/Berlin"
    # Without catch-up nudges, which would fall on the rest day between (they follow the zone too).
    partner_member.nudge_emails = False
    partner_member.save()
    enrolment = EnrolmentFactory(member=partner_member, program=program, start_date=dt.date(2026, 3, 2))
    reminder_schedule_refresh(enrolments=[enrolment])
    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at == dt.datetime(2026, 3, 11, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    response = clinic.patch(
        f"/api/v1/partner/members/{partner_member.pk}/", {"timezone": "America/New_York"}, format="json"
    )

    assert response.status_code == 200, response.content
    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at == dt.datetime(2026, 3, 11, 8, 0, tzinfo=ZoneInfo("America/New_York"))


def test_it_cannot_change_another_partners_member(clinic, partner_b_member):
    response = clinic.patch(f"/api/v1/partner/members/{partner_b_member.pk}/", {"display_name": "X"}, format="json")

    assert response.status_code == 404
    partner_b_member.refresh_from_db()
    assert partner_b_member.display_name != "X"


def test_it_enrols_ticks_and_reads_progress_for_its_member(clinic, partner_member, program):
    base = f"/api/v1/partner/members/{partner_member.pk}/enrolments/"

    response = clinic.post(base, {"program": "back", "start_date": "2026-03-02"}, format="json")
    assert response.status_code == 201, response.content
    enrolment_id = response.json()["id"]
    session = program.sessions.get(week=1, day=1)
    tick = clinic.post(f"{base}{enrolment_id}/completions/", {"session": session.pk, "pain_after": 1}, format="json")
    assert tick.status_code == 201
    progress = clinic.get(f"{base}{enrolment_id}/progress/").json()

    assert (progress["done"], progress["total"]) == (1, 6)
    assert Enrolment.objects.get().member == partner_member
    assert Completion.objects.get().pain_after == 1


def test_it_enrols_partner_members_without_email_confirmation(clinic, partner_member, program):
    assert partner_member.email_verified_at is None

    response = clinic.post(
        f"/api/v1/partner/members/{partner_member.pk}/enrolments/", {"program": "back"}, format="json"
    )

    assert response.status_code == 201


def test_it_refuses_to_enrol_a_partners_member_in_a_draft_program(clinic, partner_member):
    ProgramFactory(slug="draft", status=Program.Status.DRAFT)

    response = clinic.post(
        f"/api/v1/partner/members/{partner_member.pk}/enrolments/", {"program": "draft"}, format="json"
    )

    assert response.status_code == 404
    assert not Enrolment.objects.exists()


def test_it_hides_other_partners_and_self_signed_up_members_enrolments(clinic, partner_b_member, alice, program):
    theirs = EnrolmentFactory(member=partner_b_member, program=program, start_date=dt.date(2026, 3, 2))
    alices = EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 3, 2))
    session = program.sessions.get(week=1, day=1)

    for member, enrolment in ((partner_b_member, theirs), (alice, alices)):
        base = f"/api/v1/partner/members/{member.pk}/enrolments/"
        assert clinic.get(base).status_code == 404
        assert clinic.get(f"{base}{enrolment.pk}/progress/").status_code == 404
        assert clinic.post(f"{base}{enrolment.pk}/pause/").status_code == 404
        tick = clinic.post(f"{base}{enrolment.pk}/completions/", {"session": session.pk}, format="json")
        assert tick.status_code == 404

    assert not Completion.objects.exists()
    assert set(Enrolment.objects.values_list("status", flat=True)) == {"active"}


def test_it_does_not_reach_another_members_enrolment_through_its_own_member(clinic, partner_member, program):
    other = UserFactory(partner=partner_member.partner, external_id="p-2")
    enrolment = EnrolmentFactory(member=other, program=program)

    response = clinic.get(f"/api/v1/partner/members/{partner_member.pk}/enrolments/{enrolment.pk}/")

    assert response.status_code == 404


@pytest.mark.parametrize("count", [1, 10])
def test_it_lists_members_in_constant_queries(clinic, partner, django_assert_num_queries, count):
    for n in range(count):
        UserFactory(partner=partner, external_id=f"x-{n}")

    with django_assert_num_queries(3):  # key with partner, count, page
        assert clinic.get("/api/v1/partner/members/").json()["count"] == count


def test_it_reads_a_members_progress_in_constant_queries(clinic, partner_member, program, django_assert_num_queries):
    enrolment = EnrolmentFactory(member=partner_member, program=program, start_date=dt.date(2026, 3, 2))

    # key with partner, the member, enrolment with program and member, sessions, completions
    with django_assert_num_queries(5):
        response = clinic.get(f"/api/v1/partner/members/{partner_member.pk}/enrolments/{enrolment.pk}/progress/")
    assert response.status_code == 200
