import pytest
from django.urls import reverse

from tests.factories import build_program

pytestmark = pytest.mark.django_db


def test_it_lists_published_programs_on_the_home_page(client):
    program = build_program(title="Hips and hamstrings")
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "Hips and hamstrings" in response.content.decode()
    assert program.get_absolute_url() in response.content.decode()


def test_it_renders_the_program_page(client):
    program = build_program(title="Hips and hamstrings")
    response = client.get(program.get_absolute_url())
    assert response.status_code == 200
    assert "Week 2" in response.content.decode()
