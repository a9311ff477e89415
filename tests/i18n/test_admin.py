"""The trainers' admin: English and German side by side, and what is not yet translated marked."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import AxesAwareClient
from tests.factories import StretchFactory, TrainerFactory


@pytest.fixture
def trainer_client(db):
    call_command("seed_demo", "--no-logins", stdout=StringIO())
    client = AxesAwareClient()
    client.force_login(TrainerFactory())
    return client


def test_the_changelist_marks_what_has_no_german_yet(trainer_client):
    StretchFactory(name="Wall calf stretch", slug="wall-calf", summary="Lean into a wall.", cues="", cautions="")
    page = trainer_client.get(reverse("admin:programs_stretch_changelist")).content.decode()
    row = re.search(r"<tr>.*?Wall calf stretch.*?</tr>", page, re.S).group(0)
    assert "Not yet translated" in row and "name, summary, steps" in row
    seeded = re.search(r"<tr>.*?Cat–cow.*?</tr>", page, re.S).group(0)
    assert "✓" in seeded and "Not yet translated" not in seeded

    missing = trainer_client.get(reverse("admin:programs_stretch_changelist"), {"german": "missing"}).content.decode()
    assert "Wall calf stretch" in missing and "Cat–cow" not in missing
    complete = trainer_client.get(reverse("admin:programs_stretch_changelist"), {"german": "complete"}).content.decode()
    assert "Cat–cow" in complete and "Wall calf stretch" not in complete


def test_a_trainer_reading_german_sees_the_admins_texts_in_german(trainer_client):
    client = AxesAwareClient()
    client.force_login(TrainerFactory(language="de"))
    page = client.get(reverse("admin:programs_program_changelist")).content.decode()
    assert "Deutsche Übersetzung" in page and "Ausgewählte Programme veröffentlichen" in page


def test_each_field_is_edited_in_both_languages_on_one_row(trainer_client):
    stretch = StretchFactory(name="Wall calf stretch", slug="wall-calf")
    page = trainer_client.get(reverse("admin:programs_stretch_change", args=[stretch.pk])).content.decode()
    for field in ("name", "summary", "steps", "cues", "cautions"):
        row = re.search(
            rf'<div class="form-row[^"]*field-{field}_en[^"]*">.*?</fieldset>|'
            rf'<div class="form-row[^"]*field-{field}_en field-{field}_de[^"]*">',
            page,
            re.S,
        )
        assert row, field
        assert f'name="{field}_en"' in page and f'name="{field}_de"' in page


def test_a_trainer_saves_the_german_text(trainer_client):
    stretch = StretchFactory(name="Wall calf stretch", slug="wall-calf", default_hold_seconds=30)
    data = {
        "name_en": "Wall calf stretch",
        "name_de": "Wadendehnung an der Wand",
        "slug": "wall-calf",
        "status": "published",
        "summary_en": "Lean into a wall.",
        "summary_de": "Lehn dich an eine Wand.",
        "steps_en": "Stand facing a wall.",
        "steps_de": "Stell dich mit dem Gesicht zur Wand.",
        "body_areas": [stretch.body_areas.model.objects.get(slug="calves").pk],
        "position": "standing",
        "equipment": "wall",
        "difficulty": 1,
        "default_sets": 1,
        "default_hold_seconds": 30,
        # The pictures inline, with no pictures.
        "images-TOTAL_FORMS": 0,
        "images-INITIAL_FORMS": 0,
    }
    response = trainer_client.post(reverse("admin:programs_stretch_change", args=[stretch.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    stretch.refresh_from_db()
    assert (stretch.name_de, stretch.summary_de, stretch.cues_de) == (
        "Wadendehnung an der Wand",
        "Lehn dich an eine Wand.",
        None,
    )


def test_a_duplicate_keeps_every_language(trainer_client):
    from programs import services
    from programs.models import Program

    original = Program.objects.get(slug="lower-back-relief")
    copy = services.program_duplicate(program=original, author=None)
    assert (copy.title_en, copy.title_de) == ("Lower back relief (copy)", "Entlastung für den unteren Rücken (Kopie)")
    assert copy.goal_de == original.goal_de
    first = copy.sessions.get(week=1, day=1)
    assert first.title_de == "Der Einstieg: Atem und Hüften"
    assert first.items.order_by("order").first().notes_de == "Lass den Atem führen."
