"""The printable handout: a published program's, and a member's own session's, as a PDF (docs/handout.md).

The PDFs are read back as a person would meet them: their text per page
(pypdf) and their pages as pictures (pypdfium2, saved under test-artifacts/).
"""

import datetime as dt
import io
import re
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from django.urls import reverse

from programs import handout, services
from programs.models import Program, Stretch
from tests.factories import ProgramFactory, ProgramSessionFactory, SessionItemFactory, StretchFactory, build_program

NOW = dt.datetime(2026, 3, 10, 11, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# PDF points: A4 is 210 × 297 mm, US Letter 8.5 × 11 in.
A4, LETTER = (595, 842), (612, 792)
CAUTION_BACKGROUND = (0xFF, 0xF6, 0xE0)
# The stamp and the program page's five (program, sessions, items, body areas, pictures).
PROGRAM_HANDOUT_QUERIES = 6
# Session and user, then the enrolment, the session, its items with their stretches, their body areas, pictures.
SESSION_HANDOUT_QUERIES = 7


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def program(db):
    """Two sessions whose stretches have cautions and every kind of prescription."""
    program = ProgramFactory(title="Back at ease", slug="back-at-ease")
    cat_cow = StretchFactory(
        name="Cat–cow",
        slug="cat-cow",
        steps="Come onto your hands and knees.\nBreathe in and let the belly sink.\nBreathe out and round the back.",
        cautions="Stay in a range that feels easy.\nKneel on a folded towel if your knees are sensitive.",
    )
    hip = StretchFactory(
        name="Seated hip stretch",
        slug="seated-hip-stretch",
        steps="Sit on a steady chair.\nRest the ankle, not the foot, on the other knee.",
        cautions="Never rest the foot on the knee.",
        per_side=True,
    )
    hang = StretchFactory(name="Hanging from a bar", slug="bar-hang", cautions="Use a bar that is firmly fixed.")
    first = ProgramSessionFactory(program=program, week=1, day=1, title="Getting started")
    second = ProgramSessionFactory(program=program, week=1, day=3, title="The whole routine")
    SessionItemFactory(session=first, stretch=cat_cow, order=1, hold_seconds=None, reps=5)
    SessionItemFactory(session=first, stretch=hip, order=2, hold_seconds=20, per_side=True)
    SessionItemFactory(session=second, stretch=cat_cow, order=1, hold_seconds=None, reps=10, sets=2, rest_seconds=20)
    SessionItemFactory(session=second, stretch=hip, order=2, hold_seconds=30, per_side=True, sets=2)
    SessionItemFactory(session=second, stretch=hang, order=3, hold_seconds=20, notes="No bar? Do more cat–cow.")
    return program


@pytest.fixture
def enrolment(alice, program):
    return services.enrolment_create(member=alice, program=program, start_date=TODAY)


def _handout_url(program, paper=None):
    url = reverse("programs:handout", kwargs={"slug": program.slug})
    return f"{url}?paper={paper}" if paper else url


def _session_handout_url(enrolment, session):
    return reverse("programs:session_handout", kwargs={"pk": enrolment.pk, "session_pk": session.pk})


def _pages(pdf: bytes) -> list[str]:
    """Each page's text, with runs of whitespace (the lines WeasyPrint broke) as one space."""
    return [re.sub(r"\s+", " ", page.extract_text()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _text(pdf: bytes) -> str:
    return " ".join(_pages(pdf))


def _pdf(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return response.content


def _page_size(pdf: bytes, index: int = 0) -> tuple[int, int]:
    box = pypdf.PdfReader(io.BytesIO(pdf)).pages[index].mediabox
    return round(box.width), round(box.height)


def _save_pngs(pdf: bytes, name: str) -> list:
    """Every page as a PNG under test-artifacts/, to look at; returns the PIL images."""
    ARTIFACTS.mkdir(exist_ok=True)
    images = []
    for number, page in enumerate(pypdfium2.PdfDocument(pdf), start=1):
        image = page.render(scale=1.5).to_pil().convert("RGB")
        image.save(ARTIFACTS / f"{name}-page-{number}.png")
        images.append(image)
    return images


# --- The program's handout -----------------------------------------------------------------------


def test_it_renders_a_published_program_as_an_a4_pdf(client, program):
    response = client.get(_handout_url(program))
    pdf = _pdf(response)
    assert pdf.startswith(b"%PDF-")
    assert response["Content-Disposition"] == 'inline; filename="back-at-ease-handout.pdf"'
    assert _page_size(pdf) == A4
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.title == "Back at ease"


def test_the_program_handout_has_every_stretch_caution_step_and_prescription(client, program):
    text = _text(_pdf(client.get(_handout_url(program))))
    for stretch in ("Cat–cow", "Seated hip stretch", "Hanging from a bar"):
        assert stretch in text
    for caution in (
        "Stay in a range that feels easy.",
        "Kneel on a folded towel if your knees are sensitive.",
        "Never rest the foot on the knee.",
        "Use a bar that is firmly fixed.",
    ):
        assert caution in text
    assert "Rest the ankle, not the foot, on the other knee." in text
    # Each stretch with every amount the plan asks of it, as the pages say them.
    assert "In this program: 5 reps; 2 × 10 reps · rest 20 s between sets" in text
    assert "In this program: 20 s hold per side; 2 × 30 s hold per side · rest 15 s between sets" in text
    # And the plan, day by day.
    assert "Getting started" in text and "The whole routine" in text
    assert "Hanging from a bar — 20 s hold (No bar? Do more cat–cow.)" in text
    assert "Before you start" in text and "Take care" in text


def test_its_pages_carry_the_program_name_and_page_numbers(client, db):
    long = build_program(weeks=6, days=(1, 3, 5), items_per_session=3, title="Six slow weeks")
    pages = _pages(_pdf(client.get(_handout_url(long))))
    assert len(pages) > 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        if number > 1:
            assert "Six slow weeks" in text and "StretchHub" in text


def test_it_prints_on_us_letter_when_asked(client, program):
    pdf = _pdf(client.get(_handout_url(program, paper="letter")))
    assert _page_size(pdf) == LETTER
    assert "Cat–cow" in _text(pdf)


def test_it_refuses_an_unknown_paper_size_with_a_clear_message(client, program):
    response = client.get(_handout_url(program, paper="a3"))
    assert response.status_code == 400
    assert response.content.decode() == "Unknown paper size 'a3': use one of a4, letter."


@pytest.mark.parametrize("status", [Program.Status.DRAFT, Program.Status.ARCHIVED])
def test_an_unpublished_program_has_no_handout(client, trainer, status):
    hidden = build_program(weeks=1, days=(1,), items_per_session=1, status=status)
    assert client.get(_handout_url(hidden)).status_code == 404
    client.force_login(trainer)
    assert client.get(_handout_url(hidden)).status_code == 404


def test_an_unknown_program_has_no_handout(client, db):
    assert client.get(reverse("programs:handout", kwargs={"slug": "no-such-program"})).status_code == 404


def test_the_program_handout_is_public_and_revalidated_by_its_etag(client, program):
    first = client.get(_handout_url(program))
    assert first["Cache-Control"] == "public, max-age=600"
    assert first["ETag"].startswith('"')
    again = client.get(_handout_url(program), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(_handout_url(program, paper="letter"))["ETag"] != first["ETag"]


def test_a_trainers_change_is_in_the_next_handout(client, program):
    before = client.get(_handout_url(program))
    assert "Cat–cow" in _text(before.content)
    Stretch.objects.filter(slug="cat-cow").update(name="Cat and cow")
    after = client.get(_handout_url(program), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert "Cat and cow" in _text(after.content)


@pytest.mark.parametrize("weeks", [1, 8])
def test_the_program_handout_costs_a_fixed_number_of_queries(client, db, django_assert_num_queries, weeks):
    long = build_program(weeks=weeks, days=(1, 3, 5), items_per_session=3)
    with django_assert_num_queries(PROGRAM_HANDOUT_QUERIES):
        _pdf(client.get(_handout_url(long)))
    # Then it is read from the cache under the same stamp: one query.
    with django_assert_num_queries(1):
        _pdf(client.get(_handout_url(long)))


def test_a_stretch_is_never_split_across_pages(client, db, settings, tmp_path, monkeypatch):
    """Stretches long enough that the pages must break between them; each one's text stays on one page."""
    program = ProgramFactory(title="Many stretches")
    session = ProgramSessionFactory(program=program, week=1, day=1)
    names = [f"Stretch {letter}" for letter in "ABCDEFGHIJ"]
    for order, name in enumerate(names):
        steps = "\n".join(f"{name}, step {n}: move slowly and keep breathing all the way through." for n in range(8))
        stretch = StretchFactory(name=name, steps=steps, cautions=f"{name} caution: stop if it hurts.")
        SessionItemFactory(session=session, stretch=stretch, order=order)

    def pages_of_each(pdf):
        pages = _pages(pdf)
        first = {name: next(i for i, t in enumerate(pages) if f"{name}, step 0:" in t) for name in names}
        last = {name: next(i for i, t in enumerate(pages) if f"{name}, step 7:" in t) for name in names}
        caution = {name: next(i for i, t in enumerate(pages) if f"{name} caution" in t) for name in names}
        return pages, first, last, caution

    pages, first, last, caution = pages_of_each(_pdf(client.get(_handout_url(program))))
    assert len({*first.values()}) > 2, "the stretches should fill several pages"
    assert first == last == caution

    # The same stretches without the rule that keeps them whole are split: the check above can fail.
    loose = tmp_path / "handout.css"
    original = Path(settings.BASE_DIR / "static" / handout.STYLESHEET).read_text()
    loose.write_text(original + "\n.stretch { break-inside: auto; }\n")
    monkeypatch.setattr(handout.finders, "find", lambda path: str(loose))
    _pages_loose, first, last, caution = pages_of_each(
        handout.render_pdf(
            template="programs/handout_program.html",
            context={"handout": handout.selectors.program_handout(slug=program.slug)},
            paper="a4",
        )
    )
    assert first != last or first != caution


def test_the_handout_looks_right_when_rendered(client, program):
    """Pages as pictures (under test-artifacts/, to look at): not blank, the cautions in their amber box."""
    images = _save_pngs(_pdf(client.get(_handout_url(program))), "handout-program")
    colours = [set(image.get_flattened_data()) for image in images]
    assert all(len(found) > 50 for found in colours), "a page came out blank"
    assert any(CAUTION_BACKGROUND in found for found in colours)


def test_it_uses_the_bundled_system_font(client, program):
    reader = pypdf.PdfReader(io.BytesIO(_pdf(client.get(_handout_url(program)))))
    fonts = {
        font.get_object()["/BaseFont"].split("+")[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts <= {"DejaVu-Sans", "DejaVu-Sans-Bold", "DejaVu-Sans-Oblique"}, fonts
    assert "DejaVu-Sans" in fonts


def test_the_program_page_links_to_its_handout(client, program):
    text = client.get(program.get_absolute_url()).content.decode()
    assert f'href="{_handout_url(program)}"' in text
    assert f'href="{_handout_url(program)}?paper=letter"' in text


def test_the_staff_preview_of_a_draft_offers_no_handout(client, trainer):
    draft = build_program(weeks=1, days=(1,), items_per_session=1, status=Program.Status.DRAFT, author=trainer)
    client.force_login(trainer)
    text = client.get(reverse("programs:preview", kwargs={"slug": draft.slug})).content.decode()
    assert "handout.pdf" not in text


# --- A member's session ---------------------------------------------------------------------------


def test_a_member_prints_their_own_session(client, alice, enrolment, program):
    session = program.sessions.get(day=3)
    client.force_login(alice)
    response = client.get(_session_handout_url(enrolment, session))
    pdf = _pdf(response)
    assert response["Content-Disposition"] == 'inline; filename="back-at-ease-week-1-day-3.pdf"'
    text = _text(pdf)
    assert "The whole routine" in text and "Back at ease · week 1, day 3" in text
    assert "Planned for Thursday 12 March 2026 · 3 stretches" in text
    assert text.index("Cat–cow") < text.index("Seated hip stretch") < text.index("Hanging from a bar")
    assert "Do: 2 × 10 reps · rest 20 s between sets" in text
    assert "Do: 2 × 30 s hold per side · rest 15 s between sets" in text
    assert "Do: 20 s hold" in text and "No bar? Do more cat–cow." in text
    for caution in ("Stay in a range that feels easy.", "Never rest the foot on the knee.", "firmly fixed"):
        assert caution in text
    # The first session's amounts are not this one's.
    assert "5 reps" not in text
    _save_pngs(pdf, "handout-session")


def test_the_session_handout_is_private(client, alice, enrolment, program):
    client.force_login(alice)
    response = client.get(_session_handout_url(enrolment, program.sessions.get(day=1)))
    assert set(response["Cache-Control"].split(", ")) == {"private", "max-age=0", "must-revalidate"}


def test_the_session_handout_prints_on_us_letter_when_asked(client, alice, enrolment, program):
    client.force_login(alice)
    url = _session_handout_url(enrolment, program.sessions.get(day=1))
    assert _page_size(_pdf(client.get(url + "?paper=letter"))) == LETTER
    assert client.get(url + "?paper=tabloid").status_code == 400


def test_another_members_session_handout_is_not_found(client, bob, enrolment, program):
    client.force_login(bob)
    assert client.get(_session_handout_url(enrolment, program.sessions.get(day=1))).status_code == 404


def test_a_visitor_is_asked_to_log_in_for_a_session_handout(client, enrolment, program):
    url = _session_handout_url(enrolment, program.sessions.get(day=1))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_session_of_another_program_has_no_handout(client, alice, enrolment):
    other = build_program(weeks=1, days=(1,), items_per_session=1)
    client.force_login(alice)
    assert client.get(_session_handout_url(enrolment, other.sessions.get())).status_code == 404


@pytest.mark.parametrize("items", [1, 8])
def test_the_session_handout_costs_a_fixed_number_of_queries(client, alice, django_assert_num_queries, items):
    program = build_program(weeks=1, days=(1,), items_per_session=items)
    enrolment = services.enrolment_create(member=alice, program=program, start_date=TODAY)
    url = _session_handout_url(enrolment, program.sessions.get())
    client.force_login(alice)
    with django_assert_num_queries(SESSION_HANDOUT_QUERIES):
        _pdf(client.get(url))


def test_the_session_page_links_to_its_handout(client, alice, enrolment, program):
    session = program.sessions.get(day=1)
    client.force_login(alice)
    text = client.get(reverse("programs:session", kwargs={"pk": enrolment.pk, "session_pk": session.pk})).content
    assert f'href="{_session_handout_url(enrolment, session)}"' in text.decode()


def test_the_program_handout_is_printed_in_the_readers_language_and_cached_per_language(client, program):
    Stretch.objects.filter(slug="cat-cow").update(name_de="Katze-Kuh")
    english = client.get(_handout_url(program), HTTP_ACCEPT_LANGUAGE="en")
    german = client.get(_handout_url(program), HTTP_ACCEPT_LANGUAGE="de")

    english_text, german_text = _text(_pdf(english)), _text(_pdf(german))
    assert "Before you start" in english_text and "Cat–cow" in english_text
    assert "Bevor du anfängst" in german_text and "Katze-Kuh" in german_text
    assert "Before you start" not in german_text
    # The footer on every page, and the rest between sets, are German too.
    assert "Dehnen soll nie wehtun." in german_text and "Seite 1 von " in german_text
    assert "20 s Pause zwischen den Sätzen" in german_text and "between sets" not in german_text
    assert (english["Content-Language"], german["Content-Language"]) == ("en", "de")
    assert "Accept-Language" in german["Vary"]
    # Each language is its own cached PDF, with its own ETag.
    assert german["ETag"] != english["ETag"]
    assert client.get(_handout_url(program), HTTP_ACCEPT_LANGUAGE="en")["ETag"] == english["ETag"]


def test_a_german_member_prints_their_session_in_german(client, alice, enrolment, program):
    alice.language = "de"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    session = program.sessions.get(week=1, day=3)

    text = _text(_pdf(client.get(_session_handout_url(enrolment, session))))

    assert "Geplant für Donnerstag, 12. März 2026 · 3 Dehnübungen" in text
    assert "Wie lief es?" in text and "Schmerz vorher (0–10)" in text
