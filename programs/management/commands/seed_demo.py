"""Demo content: the four lower-back stretches, the "Lower back relief" program, and demo logins.

Idempotent: rows are looked up by their natural keys and written only when a
value differs, so a second run changes nothing (not even `updated_at`).
Facts from shared/seed/lower-back-pain-stretches.txt; every sentence is ours.
The illustrations are our own drawings (programs/seed/illustrations/, docs/media.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.utils import timezone, translation

from programs import roles, services
from programs.models import BodyArea, Program, ProgramSession, SessionItem, Stretch, StretchImage

from . import _seed_german as german

DEMO_LOGINS = [
    # username, password, role
    ("member", "stretch-member-demo", "member"),
    ("trainer", "stretch-trainer-demo", "trainer"),
    ("admin", "stretch-admin-demo", "administrator"),
]

STRETCHES = [
    {
        "slug": "bar-hang",
        "name": "Hanging from a bar",
        "summary": "Let your own weight lengthen the spine while the belly and lower back go loose.",
        "steps": [
            "Stand under a sturdy pull-up bar and take hold of it with both hands, about shoulder-width apart.",
            "Take your weight on your arms and bend your knees so your feet leave the floor.",
            "Let your stomach and lower back go soft and keep still, without swinging.",
            "Breathe slowly and let your hips sink towards the floor.",
            "After about 20 seconds, put your feet back down first, then let go of the bar.",
        ],
        "cues": [
            "Each slow breath out is a chance to let the hips feel a little heavier.",
            "Keep your grip firm and your face and jaw relaxed.",
        ],
        "cautions": [
            "Use only a bar that is firmly fixed and made to carry your full weight.",
            "Leave this one out if you have a shoulder, elbow or wrist injury, or cannot hold on safely.",
            "Never drop off the bar: get your feet under you before you release your hands.",
        ],
        "body_areas": ["lower-back", "core", "shoulders"],
        "equipment": Stretch.Equipment.PULL_UP_BAR,
        "position": Stretch.Position.HANGING,
        "difficulty": Stretch.Difficulty.MODERATE,
        "default_hold_seconds": 20,
        "per_side": False,
    },
    {
        "slug": "cat-cow",
        "name": "Cat–cow",
        "summary": "On hands and knees, a slow rocking of the spine between a dipped and a rounded back, "
        "led by the breath.",
        "steps": [
            "Come onto your hands and knees on a mat.",
            "Put your hands straight under your shoulders and your knees straight under your hips.",
            "Begin with a flat back, neither dipped nor rounded.",
            "Breathe in: look up towards the ceiling and let your belly sink so the lower back dips (cow).",
            "Breathe out: let your head hang and press your back up into a rounded arch (cat).",
            "That makes one cycle. Do 5 to 10 of them, slowly.",
        ],
        "cues": [
            "Put your attention on the breath rather than on the movement; let the breath set the pace.",
            "Move through the whole spine, from the tailbone up to the head.",
        ],
        "cautions": [
            "Stay within a range that feels easy; nothing should pinch or ache.",
            "Kneel on a mat or a folded towel if your knees are sensitive.",
        ],
        "body_areas": ["lower-back", "upper-back", "core"],
        "equipment": Stretch.Equipment.MAT,
        "position": Stretch.Position.ALL_FOURS,
        "difficulty": Stretch.Difficulty.GENTLE,
        "default_reps": 5,
        "per_side": False,
    },
    {
        "slug": "seated-hip-stretch",
        "name": "Seated hip stretch",
        "summary": "A chair stretch for the outer hip and buttock that you can do at home or at your desk.",
        "steps": [
            "Sit up tall near the front of a steady chair with both feet flat on the floor.",
            "Lift one leg and rest its ankle, not the foot, across the knee of the other leg.",
            "Hold the raised leg with both hands and let your elbow press the raised knee gently downwards. "
            "Stay there for about 20 seconds.",
            "Then take the knee in both hands and lift it up towards you.",
            "Lower the leg and do the same on the other side.",
        ],
        "cues": [
            "Keep your back long; to go deeper, tip forward a little from the hips instead of slumping.",
            "Breathe steadily all through the press.",
        ],
        "cautions": [
            "Rest the ankle on the knee, never the foot: the foot on the knee bends the ankle and strains it.",
            "Press the knee down only as far as is comfortable, never with force.",
            "Use a chair that cannot roll away or tip over.",
        ],
        "body_areas": ["hips", "glutes", "lower-back"],
        "equipment": Stretch.Equipment.CHAIR,
        "position": Stretch.Position.SEATED,
        "difficulty": Stretch.Difficulty.GENTLE,
        "default_hold_seconds": 20,
        "per_side": True,
    },
    {
        "slug": "crossed-leg-hamstring-stretch",
        "name": "Cross-legged hamstring stretch",
        "summary": "Sitting on the floor, a stretch for the backs of the thighs and the hips, with an easier variant.",
        "steps": [
            "Sit on the floor with your legs crossed.",
            "Bring one leg over so it lies on top of the other.",
            "Press the top knee gently down with your hand or elbow and hold for about 20 seconds.",
            "Then take hold of the top leg with both hands and lift it.",
            "Change legs and repeat.",
            "Easier version: stretch one leg out straight in front of you and cross the other leg over it.",
        ],
        "cues": [
            "Sit tall so the stretch is felt in the legs and hips rather than in a rounded back.",
            "Breathe out as you press the knee down.",
        ],
        "cautions": [
            "If crossing your legs is too much, use the easier straight-leg version.",
            "Sit on a cushion if your hips are stiff, and stop if you feel pain behind the knee.",
        ],
        "body_areas": ["hamstrings", "hips", "lower-back"],
        "equipment": Stretch.Equipment.MAT,
        "position": Stretch.Position.SEATED,
        "difficulty": Stretch.Difficulty.MODERATE,
        "default_hold_seconds": 20,
        "per_side": True,
    },
]

ILLUSTRATIONS_DIR = Path(__file__).resolve().parents[2] / "seed" / "illustrations"


@dataclass(frozen=True)
class Illustration:
    """One of our drawings: `name`.svg for pages and print, `name`.png (rendered from it) for emails and apps."""

    name: str
    alt: str
    caption: str = ""
    # The side the drawing shows, for a stretch done on each side (the player mirrors it for the other).
    side: str = ""

    def svg(self) -> bytes:
        return (ILLUSTRATIONS_DIR / f"{self.name}.svg").read_bytes()

    def png(self) -> bytes:
        return (ILLUSTRATIONS_DIR / f"{self.name}.png").read_bytes()


ILLUSTRATIONS = {
    "bar-hang": [
        Illustration(
            "bar-hang",
            "Hanging from an overhead bar with both hands, arms straight, knees bent so the feet are off the floor, "
            "and the hips hanging low.",
        ),
    ],
    "cat-cow": [
        Illustration(
            "cat-cow-cow",
            "On hands and knees, hands under the shoulders and knees under the hips: the belly sinks so the lower "
            "back dips, and the head lifts to look up.",
            caption="Breathe in: cow, the back dips.",
        ),
        Illustration(
            "cat-cow-cat",
            "On hands and knees: the back rounds up into an arch and the head hangs down between the arms.",
            caption="Breathe out: cat, the back rounds.",
        ),
    ],
    "seated-hip-stretch": [
        Illustration(
            "seated-hip-stretch",
            "Sitting tall on a chair with one foot flat on the floor: the other leg's ankle, not its foot, rests "
            "across that knee, with the foot beyond it. One hand holds the ankle and the other elbow presses the "
            "raised knee gently down.",
            caption="The ankle rests on the knee, the foot beyond it.",
            side="left",
        ),
    ],
    "crossed-leg-hamstring-stretch": [
        Illustration(
            "crossed-leg-hamstring-stretch",
            "Sitting on the floor with the legs crossed, one leg lying on top of the other: one hand holds the top "
            "ankle and the other presses the top knee gently down.",
            side="left",
        ),
        Illustration(
            "crossed-leg-hamstring-stretch-easier",
            "Sitting on the floor with one leg stretched out straight in front and the other bent and crossed over "
            "it, its foot on the floor beside the straight knee; both hands hold the bent knee.",
            caption="Easier version: one leg straight.",
            side="left",
        ),
    ],
}


def _drawing_name(svg: bytes) -> str:
    """Seed drawings are stored under a name made from their content, so a rerun can tell it has them already."""
    return f"stretches/drawings/{hashlib.sha256(svg).hexdigest()[:24]}.svg"


PROGRAM = {
    "slug": "lower-back-relief",
    "title": "Lower back relief",
    "summary": "Four weeks of short sessions that loosen the hips, hamstrings and lower back, "
    "four days a week with rest days in between.",
    "goal": "Tight hips and hamstrings make the lower back work harder than it should. "
    "Over four weeks you will loosen them a little at a time, starting gently with single holds "
    "and a few slow cat–cow cycles, and building up to two rounds of each stretch.\n\n"
    "Most sessions take under ten minutes. You need a mat and a chair; a pull-up bar helps from week 2 "
    "but every session works without one.",
    "level": Program.Level.BEGINNER,
}

SESSION_DAYS = (1, 2, 4, 6)
NO_BAR_NOTE = "No bar? Do 5 more cat–cow cycles instead."


@dataclass(frozen=True)
class Item:
    stretch: str
    reps: int | None = None
    hold_seconds: int | None = None
    sets: int = 1
    rest_seconds: int = 15
    notes: str = ""


def _week_plan(week: int) -> list[tuple[str, list[Item]]]:
    """Four sessions for the week: the same stretches, a little more each week."""
    cat_cow_reps = {1: 5, 2: 8, 3: 10, 4: 10}[week]
    cat_cow_sets = 2 if week == 4 else 1
    hold_sets = 1 if week == 1 else 2
    cat_cow = Item("cat-cow", reps=cat_cow_reps, sets=cat_cow_sets, rest_seconds=20, notes="Let the breath lead.")
    hip = Item("seated-hip-stretch", hold_seconds=20, sets=hold_sets)
    hamstring_note = "Start with the easier straight-leg version." if week == 1 else ""
    hamstring = Item("crossed-leg-hamstring-stretch", hold_seconds=20, sets=hold_sets, notes=hamstring_note)
    hang = Item("bar-hang", hold_seconds=20, sets=1 if week == 2 else 2, rest_seconds=30, notes=NO_BAR_NOTE)
    if week == 1:
        return [
            ("Getting started: breath and hips", [cat_cow, hip]),
            ("Hamstrings, gently", [cat_cow, hamstring]),
            ("The floor routine", [cat_cow, hip, hamstring]),
            ("The floor routine, once more", [cat_cow, hip, hamstring]),
        ]
    return [
        ("Hips and hamstrings", [cat_cow, hip, hamstring]),
        ("Spine and hips", [cat_cow, hip, hang]),
        ("Hamstrings and hang", [cat_cow, hamstring, hang]),
        ("The whole routine", [cat_cow, hip, hamstring, hang]),
    ]


WEEKS = 4


def _both(english: dict, german_texts: dict) -> dict:
    """Each text field in its plain column and its English one (the same text) and its German one."""
    values = {}
    for name, text in english.items():
        values[name] = values[f"{name}_en"] = text
        values[f"{name}_de"] = german_texts[name]
    return values


def _upsert(model: type[models.Model], lookup: dict, values: dict) -> tuple[models.Model, bool]:
    """get-or-create, then write only the fields that differ (so reruns touch no row)."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            changed.append("updated_at")
        obj.save(update_fields=changed)
    return obj, bool(changed)


class Command(BaseCommand):
    help = "Load the demo stretches and the 'Lower back relief' program; with DJANGO_DEBUG on, also demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--no-logins", action="store_true", help="Load the content only, make no logins.")

    def handle(self, *args, no_logins: bool = False, **options):
        make_logins = settings.DEBUG and not no_logins
        # The plain columns and the messages below are the English ones, whatever the shell's locale.
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            users = self._users() if make_logins else {}
            stretches = self._stretches()
            program = self._program(stretches, author=users.get("trainer"))
            services.program_publish(program=program)
            program_title = program.title
            session_count = program.sessions.count()

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo content ready, in English and German: {len(stretches)} stretches and “{program_title}” "
                f"({session_count} sessions over {WEEKS} weeks) at "
                f"{settings.SITE_URL}{program.get_absolute_url()}"
            )
        )
        if make_logins:
            self.stdout.write("Demo logins (for local development only):")
            for username, password, role in DEMO_LOGINS:
                where = "/admin/" if role != "member" else "/accounts/login/"
                login = f"{username} / {password}"
                self.stdout.write(f"  {role:<14} {login:<32} {settings.SITE_URL}{where}")
        elif not settings.DEBUG:
            self.stdout.write(
                self.style.WARNING(
                    "DJANGO_DEBUG is off, so no demo logins were created: known passwords do not belong on a "
                    "real server. Create accounts with `manage.py createsuperuser` instead."
                )
            )

    def _users(self) -> dict[str, models.Model]:
        User = get_user_model()
        trainers = roles.trainers_group()
        verified = timezone.make_aware(dt.datetime(2026, 1, 1), dt.UTC)
        users = {}
        for username, password, role in DEMO_LOGINS:
            values = {
                "email": f"{username}@stretchhub.localhost",
                "display_name": {"member": "Demo Member", "trainer": "Demo Trainer", "administrator": "Demo Admin"}[
                    role
                ],
                "timezone": "Europe/London",
                "is_staff": role != "member",
                "is_superuser": role == "administrator",
                "is_active": True,
            }
            user, _ = _upsert(User, {"username": username}, values)
            if user.email_verified_at is None:
                user.email_verified_at = verified
                user.save(update_fields=["email_verified_at"])
            if not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            if role == "trainer" and not user.groups.filter(pk=trainers.pk).exists():
                user.groups.add(trainers)
            users[role] = user
        return users

    def _stretches(self) -> dict[str, Stretch]:
        areas = roles.body_areas()
        for slug, name in german.BODY_AREAS.items():
            # Only where no German name was written yet: a trainer's own wording stays.
            if slug in areas and not areas[slug].name_de:
                BodyArea.objects.filter(pk=areas[slug].pk).update(name_de=name)
        stretches = {}
        for spec in STRETCHES:
            spec = dict(spec)
            slug = spec.pop("slug")
            area_slugs = spec.pop("body_areas")
            texts = {name: spec.pop(name) for name in ("name", "summary", "steps", "cues", "cautions")}
            german_texts = german.STRETCHES[slug]
            lines = ("steps", "cues", "cautions")
            values = {
                "default_reps": None,
                "default_hold_seconds": None,
                "default_sets": 1,
                "status": Stretch.Status.PUBLISHED,
                **spec,
                **_both(
                    {name: "\n".join(text) if name in lines else text for name, text in texts.items()},
                    {name: "\n".join(text) if name in lines else text for name, text in german_texts.items()},
                ),
            }
            stretch, _ = _upsert(Stretch, {"slug": slug}, values)
            wanted = [areas[s] for s in area_slugs]
            if {a.pk for a in stretch.body_areas.all()} != {a.pk for a in wanted}:
                stretch.body_areas.set(wanted)
            stretches[slug] = stretch
            self._illustrations(stretch, ILLUSTRATIONS.get(slug, []))
        return stretches

    def _illustrations(self, stretch: Stretch, wanted: list[Illustration]) -> None:
        """The stretch's seed drawings, first and in order; pictures a trainer added stay, after them."""
        images = list(StretchImage.objects.filter(stretch=stretch).order_by("order", "pk"))
        seeded = {image.svg.name: image for image in images if image.svg}

        def texts(illustration: Illustration) -> dict:
            german_texts = german.ILLUSTRATIONS[illustration.name]
            return {
                "alt_en": illustration.alt,
                "alt_de": german_texts["alt"],
                "caption_en": illustration.caption,
                "caption_de": german_texts["caption"] or None,
            }

        def state(image: StretchImage) -> tuple:
            return (image.svg.name, image.side, image.alt_en, image.alt_de, image.caption_en, image.caption_de)

        if [state(i) for i in images[: len(wanted)]] == [
            (_drawing_name(w.svg()), w.side, *texts(w).values()) for w in wanted
        ]:
            return
        kept = []
        for illustration in wanted:
            svg = illustration.svg()
            image = seeded.pop(_drawing_name(svg), None)
            if image is None:
                image = services.stretch_image_add(
                    stretch=stretch,
                    upload=ContentFile(illustration.png(), name=f"{illustration.name}.png"),
                    svg=svg,
                    svg_name=_drawing_name(svg),
                    alt=illustration.alt,
                )
            for name, value in texts(illustration).items():
                setattr(image, name, value)
            image.side = illustration.side
            kept.append(image)
        for image in seeded.values():
            services.stretch_image_delete(image=image)
        services.stretch_images_arrange(stretch=stretch, images=kept)

    def _program(self, stretches: dict[str, Stretch], *, author) -> Program:
        values = {
            "level": PROGRAM["level"],
            **_both({k: PROGRAM[k] for k in ("title", "summary", "goal")}, german.PROGRAM),
        }
        program = Program.objects.filter(slug=PROGRAM["slug"]).first()
        if program is None or (author is not None and program.author_id is None):
            values["author"] = author
        program, _ = _upsert(Program, {"slug": PROGRAM["slug"]}, values)

        wanted_slots = set()
        for week in range(1, WEEKS + 1):
            for day, (title, items) in zip(SESSION_DAYS, _week_plan(week), strict=True):
                wanted_slots.add((week, day))
                session, _ = _upsert(
                    ProgramSession,
                    {"program": program, "week": week, "day": day},
                    _both({"title": title, "notes": ""}, {"title": german.SESSION_TITLES[title], "notes": ""}),
                )
                self._items(session, items, stretches)
        for session in ProgramSession.objects.filter(program=program):
            if (session.week, session.day) not in wanted_slots and not session.completions.exists():
                session.delete()
        return program

    def _items(self, session: ProgramSession, items: list[Item], stretches: dict[str, Stretch]) -> None:
        for order, item in enumerate(items, start=1):
            stretch = stretches[item.stretch]
            _upsert(
                SessionItem,
                {"session": session, "order": order},
                {
                    "stretch_id": stretch.pk,
                    "sets": item.sets,
                    "reps": item.reps,
                    "hold_seconds": item.hold_seconds,
                    "per_side": stretch.per_side,
                    "rest_seconds": item.rest_seconds,
                    **_both({"notes": item.notes}, {"notes": german.ITEM_NOTES[item.notes]}),
                },
            )
        SessionItem.objects.filter(session=session, order__gt=len(items)).delete()
