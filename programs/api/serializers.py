"""API serializers: one output shape per resource, one strict input serializer per write."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from programs import media, schedule, selectors, services
from programs.models import PAIN_MAX, PAIN_MIN, BodyArea, Completion, Enrolment, Program, SessionItem, Stretch
from programs.services import NOTE_MAX_LENGTH
from stretchhub.api.fields import MAX_ID, LocalTimeField, StrictInputSerializer, TextField

# --- Catalogue ------------------------------------------------------------------------------------


class BodyAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = BodyArea
        fields = ["slug", "name"]


class PrescriptionSerializer(serializers.Serializer):
    sets = serializers.IntegerField()
    reps = serializers.IntegerField(allow_null=True, help_text="Repetitions per set; null for a hold.")
    hold_seconds = serializers.IntegerField(allow_null=True, help_text="Seconds per hold; null for reps.")
    per_side = serializers.BooleanField(help_text="Done on each side in turn.")


class DefaultPrescriptionSerializer(PrescriptionSerializer):
    sets = serializers.IntegerField(source="default_sets")
    reps = serializers.IntegerField(source="default_reps", allow_null=True)
    hold_seconds = serializers.IntegerField(source="default_hold_seconds", allow_null=True)
    text = serializers.CharField(source="default_prescription_text", help_text="The prescription in words.")


class ItemPrescriptionSerializer(PrescriptionSerializer):
    rest_seconds = serializers.IntegerField(help_text="Rest between sets (and sides).")
    text = serializers.CharField(source="prescription_text", help_text="The prescription in words.")


class StretchImageSerializer(serializers.Serializer):
    """One picture of a stretch (programs.media.Picture), in the stretch's order."""

    src = serializers.URLField(
        help_text="The picture to show: a drawing (SVG) for our own illustrations, otherwise a JPEG or PNG."
    )
    srcset = serializers.CharField(
        help_text="The same picture as JPEG or PNG at several widths (`url 320w, …`), for an `<img srcset>` or "
        "for clients that cannot show SVG."
    )
    width = serializers.IntegerField(
        help_text="Width in pixels of the widest size (its aspect ratio is the picture's)."
    )
    height = serializers.IntegerField()
    alt = serializers.CharField(help_text="What the body does in the picture, for people who cannot see it.")
    caption = serializers.CharField(allow_blank=True)
    side = serializers.ChoiceField(
        choices=["", "left", "right"],
        allow_blank=True,
        help_text="For a stretch done on each side: the side the picture shows (mirror it for the other); empty "
        "otherwise.",
    )

    def to_representation(self, image) -> dict:
        return _image(image)


class StretchVideoSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["file", "embed"], help_text="`file`: play `src` in a video element; `embed`: show it in a frame."
    )
    src = serializers.URLField(help_text="The video file, or the player page of a YouTube (no-cookie) or Vimeo video.")
    content_type = serializers.ChoiceField(
        choices=sorted(media.VIDEO_CONTENT_TYPES.values()), allow_null=True, help_text="For a file."
    )
    poster = serializers.URLField(allow_null=True, help_text="For a file: the picture shown before it plays.")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    provider = serializers.ChoiceField(choices=["youtube", "vimeo"], allow_null=True, help_text="For an embed.")

    def to_representation(self, stretch) -> dict | None:
        return _video(stretch)


class StretchSerializer(serializers.ModelSerializer):
    body_areas = BodyAreaSerializer(many=True)
    difficulty_label = serializers.CharField(source="get_difficulty_display")
    default_prescription = DefaultPrescriptionSerializer(source="*")
    images = StretchImageSerializer(many=True, help_text="The stretch's pictures, in order.")
    video = StretchVideoSerializer(source="*", allow_null=True, help_text="The stretch's video, if it has one.")

    class Meta:
        model = Stretch
        fields = [
            "id",
            "slug",
            "name",
            "summary",
            "body_areas",
            "equipment",
            "position",
            "difficulty",
            "difficulty_label",
            "default_prescription",
            "media_url",
            "images",
            "video",
        ]


class StretchDetailSerializer(StretchSerializer):
    steps = serializers.ListField(child=serializers.CharField(), source="step_list")
    cues = serializers.ListField(child=serializers.CharField(), source="cue_list")
    cautions = serializers.ListField(child=serializers.CharField(), source="caution_list")

    class Meta(StretchSerializer.Meta):
        fields = [*StretchSerializer.Meta.fields, "steps", "cues", "cautions"]


class ProgramListSerializer(serializers.Serializer):
    """A catalogue card (selectors.ProgramCard)."""

    id = serializers.IntegerField(source="program.pk")
    slug = serializers.SlugField(source="program.slug")
    title = serializers.CharField(source="program.title")
    summary = serializers.CharField(source="program.summary")
    level = serializers.ChoiceField(source="program.level", choices=Program.Level.choices)
    weeks = serializers.IntegerField(help_text="Weeks up to the last session.")
    session_count = serializers.IntegerField()
    sessions_per_week = serializers.IntegerField()
    body_areas = BodyAreaSerializer(many=True)
    published_at = serializers.DateTimeField(source="program.published_at", allow_null=True)


class StretchRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stretch
        fields = ["id", "slug", "name"]


class SessionItemSerializer(serializers.ModelSerializer):
    stretch = StretchRefSerializer(help_text="Full stretch details are in the program's `stretches`.")
    prescription = ItemPrescriptionSerializer(source="*")

    class Meta:
        model = SessionItem
        fields = ["order", "stretch", "prescription", "notes"]


class DayPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="session.pk")
    day = serializers.IntegerField(help_text="Day of the week within the program, 1–7.")
    day_number = serializers.IntegerField(help_text="Day N of the program: (week − 1) × 7 + day.")
    title = serializers.CharField(source="session.title")
    notes = serializers.CharField(source="session.notes")
    minutes = serializers.IntegerField(help_text="About how long the session takes.")
    items = SessionItemSerializer(many=True)


class WeekPlanSerializer(serializers.Serializer):
    week = serializers.IntegerField()
    sessions = serializers.SerializerMethodField(help_text="The week's sessions by day; other days are rest days.")

    @extend_schema_field(DayPlanSerializer(many=True))
    def get_sessions(self, week: selectors.WeekPlan):
        return DayPlanSerializer([d for d in week.days if not d.is_rest], many=True).data


class ProgramDetailSerializer(serializers.Serializer):
    """A program's whole structure (selectors.ProgramPage): weeks → sessions → items, and its stretches."""

    id = serializers.IntegerField(source="program.pk")
    slug = serializers.SlugField(source="program.slug")
    title = serializers.CharField(source="program.title")
    summary = serializers.CharField(source="program.summary")
    goal = serializers.CharField(source="program.goal")
    level = serializers.ChoiceField(source="program.level", choices=Program.Level.choices)
    author = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField(source="program.published_at", allow_null=True)
    week_count = serializers.IntegerField()
    session_count = serializers.IntegerField()
    typical_minutes = serializers.IntegerField(help_text="Typical session length in minutes.")
    body_areas = BodyAreaSerializer(many=True)
    weeks = WeekPlanSerializer(many=True)
    stretches = StretchDetailSerializer(many=True, help_text="Every stretch the program uses, once.")

    def get_author(self, page: selectors.ProgramPage) -> str | None:
        author = page.program.author
        return str(author) if author else None

    # A 12-week program is ~150 items and sessions: DRF's field-by-field walk over
    # them (and a new nested serializer per week) cost nine tenths of the response.
    # Written out by hand; a test checks it returns exactly what the fields declare.
    def to_representation(self, page: selectors.ProgramPage) -> dict:
        program = page.program
        return {
            "id": program.pk,
            "slug": program.slug,
            "title": program.title,
            "summary": program.summary,
            "goal": program.goal,
            "level": program.level,
            "author": self.get_author(page),
            "published_at": _datetime(program.published_at) if program.published_at else None,
            "week_count": page.week_count,
            "session_count": page.session_count,
            "typical_minutes": page.typical_minutes,
            "body_areas": [_body_area(a) for a in page.body_areas],
            "weeks": [
                {"week": week.week, "sessions": [_day_plan(d) for d in week.days if not d.is_rest]}
                for week in page.weeks
            ],
            "stretches": [_stretch_detail(stretch) for stretch in page.stretches],
        }


def _body_area(area: BodyArea) -> dict:
    return {"slug": area.slug, "name": area.name}


def _day_plan(day: selectors.DayPlan) -> dict:
    session = day.session
    return {
        "id": session.pk,
        "day": day.day,
        "day_number": day.day_number,
        "title": session.title,
        "notes": session.notes,
        "minutes": day.minutes,
        "items": [
            {
                "order": item.order,
                "stretch": {"id": item.stretch.pk, "slug": item.stretch.slug, "name": item.stretch.name},
                "prescription": {
                    "sets": item.sets,
                    "reps": item.reps,
                    "hold_seconds": item.hold_seconds,
                    "per_side": item.per_side,
                    "rest_seconds": item.rest_seconds,
                    "text": item.prescription_text,
                },
                "notes": item.notes,
            }
            for item in day.items
        ],
    }


def _stretch_detail(stretch: Stretch) -> dict:
    return {
        "id": stretch.pk,
        "slug": stretch.slug,
        "name": stretch.name,
        "summary": stretch.summary,
        "body_areas": [_body_area(a) for a in stretch.body_areas.all()],
        "equipment": stretch.equipment,
        "position": stretch.position,
        "difficulty": stretch.difficulty,
        "difficulty_label": stretch.get_difficulty_display(),
        "default_prescription": {
            "sets": stretch.default_sets,
            "reps": stretch.default_reps,
            "hold_seconds": stretch.default_hold_seconds,
            "per_side": stretch.per_side,
            "text": stretch.default_prescription_text,
        },
        "media_url": stretch.media_url,
        "images": [_image(image) for image in stretch.images.all()],
        "video": _video(stretch),
        "steps": stretch.step_list,
        "cues": stretch.cue_list,
        "cautions": stretch.caution_list,
    }


def _image(image) -> dict:
    picture = media.picture(image, absolute=True)
    return {
        "src": picture.src,
        "srcset": picture.srcset,
        "width": picture.width,
        "height": picture.height,
        "alt": picture.alt,
        "caption": picture.caption,
        "side": picture.side,
    }


def _video(stretch: Stretch) -> dict | None:
    video = media.video(stretch, absolute=True)
    if video is None:
        return None
    return {
        "kind": video.kind,
        "src": video.src,
        "content_type": video.content_type,
        "poster": video.poster,
        "width": video.width,
        "height": video.height,
        "provider": video.provider,
    }


# --- Members: enrolments, progress, completions ------------------------------------------------------


class EnrolmentProgramSerializer(serializers.ModelSerializer):
    class Meta:
        model = Program
        fields = ["id", "slug", "title"]


class EnrolmentSerializer(serializers.ModelSerializer):
    program = EnrolmentProgramSerializer()
    reminder_time = LocalTimeField(help_text="Local time of the reminder email, in the member's timezone.")
    paused_days = serializers.IntegerField(
        help_text="Days spent in finished pauses; the schedule moved on by this much."
    )

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "program",
            "status",
            "start_date",
            "reminder_time",
            "reminders_enabled",
            "paused_on",
            "paused_days",
            "created_at",
            "ended_at",
        ]


class EnrolmentCreateSerializer(StrictInputSerializer):
    program = serializers.SlugField(help_text="Slug of a published program.")
    start_date = serializers.DateField(
        required=False,
        help_text="Day 1, in the member's timezone: up to 14 days ago or a year ahead. Default: today.",
    )
    reminder_time = LocalTimeField(required=False, help_text="Local time; default: the member's default.")
    reminders_enabled = serializers.BooleanField(required=False, default=True)

    def validate_start_date(self, value):
        # The web form's rule (services.validate_start_date), as a field error.
        try:
            services.validate_start_date(start_date=value, today=self.context["today"])
        except services.EnrolmentError as error:
            raise serializers.ValidationError(str(error)) from None
        return value


class EnrolmentUpdateSerializer(StrictInputSerializer):
    reminder_time = LocalTimeField(required=False, help_text="Local time of the reminder email.")
    reminders_enabled = serializers.BooleanField(required=False)


class AdherenceSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    due = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True, help_text="Null while nothing is due yet.")


class SessionSlotSerializer(serializers.Serializer):
    session = serializers.IntegerField(source="session.pk")
    week = serializers.IntegerField(source="session.week")
    day = serializers.IntegerField(source="session.day")
    day_number = serializers.IntegerField(source="session.day_number")
    title = serializers.CharField(source="session.title")
    date = serializers.DateField(help_text="The member's local date the session falls on (pauses included).")
    done = serializers.BooleanField()
    completed_at = serializers.DateTimeField(source="completion.completed_at", allow_null=True, default=None)

    # A progress response holds one of these per session and per calendar day: written out
    # by hand they cost a fifth of the field-by-field walk. Schemathesis checks they match.
    def to_representation(self, slot: selectors.SessionSlot) -> dict:
        session = slot.session
        return {
            "session": session.pk,
            "week": session.week,
            "day": session.day,
            "day_number": session.day_number,
            "title": session.title,
            "date": slot.date.isoformat(),
            "done": slot.done,
            "completed_at": _datetime(slot.completion.completed_at) if slot.completion else None,
        }


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    state = serializers.ChoiceField(choices=schedule.DayState.values)
    day_number = serializers.IntegerField(allow_null=True)

    def to_representation(self, day: schedule.CalendarDay) -> dict:
        return {"date": day.date.isoformat(), "state": day.state, "day_number": day.day_number}


_DATETIME = serializers.DateTimeField()


def _datetime(value) -> str:
    return _DATETIME.to_representation(value)


class ProgressSerializer(serializers.Serializer):
    """selectors.EnrolmentProgress: the numbers the member's progress page shows."""

    enrolment = serializers.IntegerField(source="enrolment.pk")
    status = serializers.ChoiceField(source="enrolment.status", choices=Enrolment.Status.choices)
    today = serializers.DateField(help_text="The member's local date.")
    total = serializers.IntegerField(source="progress.total")
    done = serializers.IntegerField(source="progress.done")
    percent_done = serializers.IntegerField()
    adherence = AdherenceSerializer(source="progress.adherence")
    adherence_7_days = AdherenceSerializer(source="progress.adherence_7_days")
    adherence_30_days = AdherenceSerializer(source="progress.adherence_30_days")
    current_streak = serializers.IntegerField(source="progress.current_streak")
    best_streak = serializers.IntegerField(source="progress.best_streak")
    sessions = SessionSlotSerializer(source="slots", many=True)
    calendar = CalendarDaySerializer(many=True, help_text="One entry per date from the start to the last session.")


class CompletionSerializer(serializers.ModelSerializer):
    session = serializers.IntegerField(source="program_session_id")
    title = serializers.CharField(source="program_session.title")
    day_number = serializers.IntegerField(source="program_session.day_number")

    class Meta:
        model = Completion
        fields = ["session", "title", "day_number", "completed_at", "pain_before", "pain_after", "note"]


class CompletionCreateSerializer(StrictInputSerializer):
    session = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="Id of a session of the enrolment's program."
    )
    pain_before = serializers.IntegerField(required=False, allow_null=True, min_value=PAIN_MIN, max_value=PAIN_MAX)
    pain_after = serializers.IntegerField(required=False, allow_null=True, min_value=PAIN_MIN, max_value=PAIN_MAX)
    note = TextField(required=False, default="", max_length=NOTE_MAX_LENGTH)
