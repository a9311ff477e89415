import datetime as dt
import io

import factory
from django.core.files.base import ContentFile
from PIL import Image

from accounts.models import Partner, User
from programs import services
from programs.models import BodyArea, Completion, Enrolment, Program, ProgramSession, SessionItem, Stretch, StretchImage
from programs.roles import trainers_group

PASSWORD = "stretch-it-out-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.LazyAttribute(lambda u: u.username.title())
    timezone = "Europe/London"
    email_verified_at = factory.LazyFunction(lambda: dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TrainerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"trainer{n}")
    is_staff = True

    @factory.post_generation
    def trainers_group(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(trainers_group())


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Clinic {n}")
    contact_email = factory.Sequence(lambda n: f"api{n}@clinic.example")


class BodyAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BodyArea
        django_get_or_create = ("slug",)

    name = "Lower back"
    slug = "lower-back"


class StretchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stretch
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Stretch {n}")
    slug = factory.Sequence(lambda n: f"stretch-{n}")
    summary = "A gentle stretch."
    steps = "Stand tall.\nReach up slowly.\nBreathe out and relax."
    cues = "Breathe slowly."
    cautions = "Stop if you feel sharp pain."
    position = Stretch.Position.STANDING
    default_hold_seconds = 20
    status = Stretch.Status.PUBLISHED

    @factory.post_generation
    def body_areas(obj, create, extracted, **kwargs):
        if create:
            obj.body_areas.set(extracted or [BodyAreaFactory()])


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    title = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")
    summary = "Loosen up, a little every day."
    goal = "Move with less stiffness."
    author = factory.SubFactory(TrainerFactory)
    status = Program.Status.PUBLISHED


class ProgramSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramSession

    program = factory.SubFactory(ProgramFactory)
    week = 1
    day = factory.Sequence(lambda n: n % 7 + 1)
    title = factory.LazyAttribute(lambda s: f"Week {s.week} day {s.day}")


class SessionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionItem

    session = factory.SubFactory(ProgramSessionFactory)
    stretch = factory.SubFactory(StretchFactory)
    order = factory.Sequence(lambda n: n)
    hold_seconds = 20


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    member = factory.SubFactory(UserFactory)
    program = factory.SubFactory(ProgramFactory)
    start_date = dt.date(2026, 3, 2)
    reminder_time = dt.time(8, 0)


class CompletionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Completion

    enrolment = factory.SubFactory(EnrolmentFactory)
    program_session = factory.SubFactory(ProgramSessionFactory)


def build_program(*, weeks: int = 2, days: tuple[int, ...] = (1, 3, 5), items_per_session: int = 2, **program_kwargs):
    """A published program with sessions on the given days of each week."""
    program = ProgramFactory(**program_kwargs)
    stretches = [StretchFactory() for _ in range(items_per_session)]
    for week in range(1, weeks + 1):
        for day in days:
            session = ProgramSessionFactory(program=program, week=week, day=day)
            for order, stretch in enumerate(stretches):
                SessionItemFactory(session=session, stretch=stretch, order=order)
    return program


def picture_bytes(
    *, format: str = "JPEG", size: tuple[int, int] = (800, 600), colour=(11, 110, 98), exif: Image.Exif | None = None
) -> bytes:
    """A real picture file, as a camera or an editor would write it."""
    image = Image.new("RGBA" if format == "PNG" else "RGB", size, colour)
    out = io.BytesIO()
    options = {"exif": exif.tobytes()} if exif is not None else {}
    image.save(out, format=format, **options)
    return out.getvalue()


def picture_upload(name: str = "stretch.jpg", **kwargs) -> ContentFile:
    return ContentFile(picture_bytes(**kwargs), name=name)


class StretchImageFactory(factory.django.DjangoModelFactory):
    """A stored picture, made the one way pictures are made: through services.stretch_image_add."""

    class Meta:
        model = StretchImage

    stretch = factory.SubFactory(StretchFactory)
    alt = "Standing tall, both arms reach up overhead."
    caption = ""
    side = ""
    size = (800, 600)

    @classmethod
    def _create(cls, model_class, *, stretch, alt, caption, side, size, **kwargs):
        upload = picture_upload(size=size)
        return services.stretch_image_add(stretch=stretch, upload=upload, alt=alt, caption=caption, side=side, **kwargs)
