import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import schedule
from .validators import validate_media_url, validate_video_embed_url

MAX_WEEKS = 52
# Pain scores run from 0 (none) to 10 (worst): the one definition the forms,
# the API, the service and the database checks all use.
PAIN_MIN, PAIN_MAX = 0, 10
PAIN_VALIDATORS = [MinValueValidator(PAIN_MIN), MaxValueValidator(PAIN_MAX)]


def prescription_text(*, sets: int, reps: int | None, hold_seconds: int | None, per_side: bool) -> str:
    """A prescription in words ("5 reps", "2 × 30 s hold per side"), as every page, email, feed and the API say it.

    In the active language: an email is built inside its recipient's.
    """
    if reps:
        amount = ngettext("%(count)d rep", "%(count)d reps", reps) % {"count": reps}
    else:
        amount = gettext("%(seconds)d s hold") % {"seconds": hold_seconds}
    text = amount if sets == 1 else gettext("%(sets)d × %(amount)s") % {"sets": sets, "amount": amount}
    return gettext("%(prescription)s per side") % {"prescription": text} if per_side else text


class CatalogueQuerySet(models.QuerySet):
    """Bulk writes count a new version of each row they change, as save() does (CatalogueModel)."""

    def update(self, **kwargs):
        kwargs.setdefault("version", F("version") + 1)
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.version = F("version") + 1
        return super().bulk_update(objs, [*fields, "version"], *args, **kwargs)


class CatalogueModel(models.Model):
    """A row of what trainers write. Every write to it, however made, adds one to its version.

    The program detail's cache key is made from these (docs/caching.md): a sum
    of versions moves with any write whatever order writers commit in, where a
    latest updated_at would miss a write that committed after a later-stamped one.
    The increment happens in the database, so two writers never count as one.
    """

    version = models.PositiveIntegerField(default=1, editable=False)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        if not self._state.adding:
            self.version = F("version") + 1
            if update_fields is not None:
                update_fields = {*update_fields, "version"}
        super().save(*args, update_fields=update_fields, **kwargs)
        if not isinstance(self.version, int):
            del self.version  # read back from the row when next needed


def _prescription_check(prefix: str) -> Q:
    """Exactly one of reps or hold seconds, and it is positive.

    The explicit IS NOT NULL matters: with both empty, `reps > 0` is NULL, and
    SQL lets a CHECK whose result is NULL pass.
    """
    reps, hold = f"{prefix}reps", f"{prefix}hold_seconds"
    return Q(**{f"{reps}__isnull": False, f"{reps}__gt": 0, f"{hold}__isnull": True}) | Q(
        **{f"{hold}__isnull": False, f"{hold}__gt": 0, f"{reps}__isnull": True}
    )


class Prescription(models.Model):
    """How much of a stretch: sets of reps or of holds, per side or not, with rest."""

    sets = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(20)])
    reps = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Repetitions per set. Fill in either reps or hold seconds."),
    )
    hold_seconds = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text=_("Seconds to hold per set (per side when per side). Fill in either reps or hold seconds."),
    )
    per_side = models.BooleanField(default=False, help_text=_("Done once on each side (left and right)."))
    rest_seconds = models.PositiveSmallIntegerField(default=15, validators=[MaxValueValidator(600)])

    class Meta:
        abstract = True

    def clean(self):
        from django.core.exceptions import ValidationError

        if (self.reps is None) == (self.hold_seconds is None):
            raise ValidationError(_("Give either repetitions or a hold time in seconds (exactly one)."))

    @property
    def prescription_text(self) -> str:
        return prescription_text(sets=self.sets, reps=self.reps, hold_seconds=self.hold_seconds, per_side=self.per_side)


class BodyArea(CatalogueModel):
    name = models.CharField(_("name"), max_length=50, unique=True)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("body area")
        verbose_name_plural = _("body areas")

    def __str__(self) -> str:
        return self.name


class Stretch(CatalogueModel):
    class Equipment(models.TextChoices):
        NONE = "none", _("None")
        CHAIR = "chair", _("Chair")
        MAT = "mat", _("Mat")
        PULL_UP_BAR = "pull_up_bar", _("Pull-up bar")
        WALL = "wall", _("Wall")
        STRAP = "strap", _("Strap or towel")

    class Position(models.TextChoices):
        STANDING = "standing", _("Standing")
        SEATED = "seated", _("Seated")
        KNEELING = "kneeling", _("Kneeling")
        ALL_FOURS = "all_fours", _("On hands and knees")
        LYING = "lying", _("Lying down")
        HANGING = "hanging", _("Hanging")

    class Difficulty(models.IntegerChoices):
        GENTLE = 1, _("Gentle")
        MODERATE = 2, _("Moderate")
        CHALLENGING = 3, _("Challenging")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    summary = models.CharField(_("summary"), max_length=300)
    steps = models.TextField(_("steps"), help_text=_("One instruction step per line, in order."))
    cues = models.TextField(_("cues"), blank=True, help_text=_("Breathing and form cues, one per line."))
    cautions = models.TextField(_("cautions"), blank=True, help_text=_("Safety cautions, one per line."))
    body_areas = models.ManyToManyField(BodyArea, related_name="stretches", verbose_name=_("body areas"))
    equipment = models.CharField(_("equipment"), max_length=20, choices=Equipment, default=Equipment.NONE)
    position = models.CharField(_("position"), max_length=20, choices=Position)
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), choices=Difficulty, default=Difficulty.GENTLE)
    # The default prescription, copied into a session item when it is added.
    default_sets = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(20)])
    default_reps = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    default_hold_seconds = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    per_side = models.BooleanField(default=False)
    media_url = models.URLField(
        blank=True, validators=[validate_media_url], help_text=_("Optional image or video (http/https).")
    )
    # An optional video: an uploaded file (MP4 or WebM, with its poster picture)
    # or a YouTube/Vimeo embed, never both. Written by services.stretch_video_*
    # only, which check the file and name it (docs/media.md).
    video = models.FileField(max_length=200, blank=True, editable=False)
    video_poster = models.FileField(max_length=200, blank=True, editable=False)
    video_poster_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    video_poster_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    video_embed_url = models.URLField(
        blank=True,
        validators=[validate_video_embed_url],
        help_text="A YouTube (shown from youtube-nocookie.com) or Vimeo link.",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("stretch")
        verbose_name_plural = _("stretches")
        constraints = [
            models.CheckConstraint(condition=_prescription_check("default_"), name="stretch_default_reps_xor_hold"),
            models.CheckConstraint(condition=Q(default_sets__gte=1), name="stretch_default_sets_positive"),
            models.CheckConstraint(condition=Q(difficulty__in=[1, 2, 3]), name="stretch_difficulty_valid"),
            models.CheckConstraint(condition=Q(video="") | Q(video_embed_url=""), name="stretch_one_kind_of_video"),
            # An uploaded video always comes with its poster, and a poster only with a video.
            models.CheckConstraint(
                condition=(Q(video="") & Q(video_poster="")) | (~Q(video="") & ~Q(video_poster="")),
                name="stretch_video_has_poster",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if (self.default_reps is None) == (self.default_hold_seconds is None):
            raise ValidationError(_("Give either default repetitions or a default hold time (exactly one)."))

    @property
    def default_prescription_text(self) -> str:
        return prescription_text(
            sets=self.default_sets,
            reps=self.default_reps,
            hold_seconds=self.default_hold_seconds,
            per_side=self.per_side,
        )

    @property
    def step_list(self) -> list[str]:
        return _lines(self.steps)

    @property
    def cue_list(self) -> list[str]:
        return _lines(self.cues)

    @property
    def caution_list(self) -> list[str]:
        return _lines(self.cautions)


class StretchImage(CatalogueModel):
    """One picture of a stretch, in order (e.g. the start and the end position).

    `image` is always a raster file that the upload pipeline decoded and
    re-encoded (programs/media.py), and the responsive sizes are made from it.
    `svg` is set only for the seed illustrations, trusted files from this
    repository: pages show the drawing, emails and apps the raster.
    Written by services.stretch_image_* only.
    """

    class Side(models.TextChoices):
        NONE = "", _("Not one side")
        LEFT = "left", _("Left side")
        RIGHT = "right", _("Right side")

    stretch = models.ForeignKey(Stretch, on_delete=models.CASCADE, related_name="images")
    order = models.PositiveIntegerField(default=0, db_index=True)
    image = models.FileField(max_length=200, editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    svg = models.FileField(max_length=200, blank=True, editable=False)
    alt = models.CharField(
        _("alt text"),
        max_length=300,
        help_text=_(
            "What the body does in the picture, for people who cannot see it. "
            "Do not name the side: the picture is shown mirrored for the other side."
        ),
    )
    caption = models.CharField(
        _("caption"), max_length=200, blank=True, help_text=_("Optional; shown under the picture.")
    )
    side = models.CharField(
        _("side"),
        max_length=5,
        choices=Side,
        blank=True,
        help_text=_(
            "For a stretch done on each side: the side this picture shows. The player mirrors it for the other side."
        ),
    )

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("picture")
        verbose_name_plural = _("pictures")
        constraints = [
            models.CheckConstraint(condition=~Q(alt=""), name="stretch_image_has_alt_text"),
            models.CheckConstraint(condition=Q(side__in=["", "left", "right"]), name="stretch_image_side_valid"),
        ]

    def __str__(self) -> str:
        return self.alt

    @property
    def is_drawing(self) -> bool:
        return bool(self.svg)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class Program(CatalogueModel):
    class Level(models.TextChoices):
        BEGINNER = "beginner", _("Beginner")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    title = models.CharField(_("title"), max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    summary = models.CharField(_("summary"), max_length=300)
    goal = models.TextField(_("goal"), help_text=_("What a member can expect by the end of the program."))
    level = models.CharField(_("level"), max_length=20, choices=Level, default=Level.BEGINNER)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="authored_programs"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        indexes = [models.Index(fields=["status", "title"], name="program_status_title")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("programs:detail", kwargs={"slug": self.slug})


class ProgramSession(CatalogueModel):
    """The work for one (week, day) of a program. A day without one is a rest day."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="sessions")
    week = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_WEEKS)])
    day = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(7)], help_text=_("Day of the week within the program, 1–7.")
    )
    title = models.CharField(_("title"), max_length=120)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["program", "week", "day"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.UniqueConstraint(fields=["program", "week", "day"], name="unique_session_per_program_day"),
            models.CheckConstraint(condition=Q(day__gte=1, day__lte=7), name="session_day_1_to_7"),
            models.CheckConstraint(condition=Q(week__gte=1, week__lte=MAX_WEEKS), name="session_week_in_range"),
        ]

    def __str__(self) -> str:
        return gettext("Week %(week)d, day %(day)d: %(title)s") % {
            "week": self.week,
            "day": self.day,
            "title": self.title,
        }

    @property
    def day_number(self) -> int:
        return schedule.day_number(week=self.week, day=self.day)


class SessionItem(Prescription, CatalogueModel):
    """One stretch in a session, in order, with its own prescription."""

    session = models.ForeignKey(ProgramSession, on_delete=models.CASCADE, related_name="items")
    stretch = models.ForeignKey(Stretch, on_delete=models.PROTECT, related_name="session_items")
    order = models.PositiveIntegerField(default=0, db_index=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["order"]
        verbose_name = _("stretch in session")
        verbose_name_plural = _("stretches in session")
        constraints = [
            models.UniqueConstraint(fields=["session", "order"], name="unique_item_order_in_session"),
            models.CheckConstraint(condition=_prescription_check(""), name="item_reps_xor_hold"),
            models.CheckConstraint(condition=Q(sets__gte=1), name="item_sets_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.stretch} — {self.prescription_text}"


class Enrolment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        LEFT = "left", _("Left")

    CURRENT_STATUSES = (Status.ACTIVE, Status.PAUSED)

    # Null once the member deleted their account: the anonymous history keeps
    # the trainer's program figures right.
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="enrolments"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrolments")
    start_date = models.DateField(help_text=_("The member's local date of day 1."))
    reminder_time = models.TimeField(help_text=_("Local time of the reminder email."))
    reminders_enabled = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    paused_on = models.DateField(null=True, blank=True, help_text=_("Local date the current pause began."))
    # Finished pauses, oldest first: [{"started_on": "YYYY-MM-DD", "days": n}, …]
    pauses = models.JSONField(default=list, blank=True)
    # The next instant (UTC) a reminder is due; null when none is. Kept up to
    # date by the services whenever the schedule, time, timezone or status changes.
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "program"],
                condition=Q(status__in=["active", "paused"]),
                name="one_current_enrolment_per_member_program",
            ),
            models.CheckConstraint(
                condition=Q(status="paused", paused_on__isnull=False)
                | (~Q(status="paused") & Q(paused_on__isnull=True)),
                name="paused_on_set_only_while_paused",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_reminder_at"],
                name="enrolment_next_reminder_idx",
                condition=Q(next_reminder_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member or 'deleted member'} in {self.program}"

    @property
    def is_current(self) -> bool:
        return self.status in self.CURRENT_STATUSES

    def pause_list(self, *, today: dt.date | None = None) -> list[schedule.Pause]:
        """Finished pauses, plus the open one as if the member resumed tomorrow."""
        pauses = [schedule.Pause(dt.date.fromisoformat(p["started_on"]), int(p["days"])) for p in self.pauses]
        if self.paused_on is not None:
            today = today or self.paused_on
            pauses.append(schedule.Pause(self.paused_on, max(0, (today - self.paused_on).days) + 1))
        return pauses

    @property
    def paused_days(self) -> int:
        return sum(int(p["days"]) for p in self.pauses)

    def date_of_day(self, day_number: int, *, today: dt.date | None = None) -> dt.date:
        return schedule.session_date(
            start_date=self.start_date, day_number=day_number, pauses=self.pause_list(today=today)
        )

    def date_of_session(self, session: ProgramSession, *, today: dt.date | None = None) -> dt.date:
        return self.date_of_day(session.day_number, today=today)


class Completion(models.Model):
    """A member ticked one program session of one enrolment."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="completions")
    program_session = models.ForeignKey(ProgramSession, on_delete=models.PROTECT, related_name="completions")
    completed_at = models.DateTimeField(default=timezone.now)
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True, validators=PAIN_VALIDATORS)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True, validators=PAIN_VALIDATORS)
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["completed_at"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "program_session"], name="one_completion_per_session"),
            models.CheckConstraint(condition=Q(pain_before__lte=PAIN_MAX), name="pain_before_0_to_10"),
            models.CheckConstraint(condition=Q(pain_after__lte=PAIN_MAX), name="pain_after_0_to_10"),
        ]
        indexes = [models.Index(fields=["enrolment", "completed_at"])]

    def __str__(self) -> str:
        return f"{self.enrolment} — {self.program_session}"
