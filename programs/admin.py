"""The trainers' workplace.

A program is built on two pages, because Django has no nested inlines:
the program page lists its sessions inline (week, day, title, and a summary of
their stretches), and each session's page lists its stretches inline, ordered
by drag and drop (django-admin-sortable2) and chosen by autocomplete.

Trainers (staff in the "Trainers" group) may add stretches and programs and
change only the programs they wrote; they can open anyone's program read-only
and duplicate it. Superusers change everything.
"""

from adminsortable2.admin import CustomInlineFormSet, SortableAdminBase, SortableStackedInline, SortableTabularInline
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline, TranslationTabularInline

from . import media, selectors, services
from .admin_translation import GermanColumnMixin, GermanTranslationFilter
from .models import BodyArea, Enrolment, Program, ProgramSession, SessionItem, Stretch, StretchImage


def _can_edit_program(user, program: Program | None) -> bool:
    return program is None or user.is_superuser or (program.author_id is not None and program.author_id == user.pk)


# --- Tabular inlines that screen readers can fill in ---------------------------------------------


class NamedInputsInline:
    """A tabular inline names each field once, in its column heading, and labels none of the
    inputs below it: each input is given the heading as its accessible name instead."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        for field in formset.form.base_fields.values():
            field.widget.attrs.setdefault("aria-label", capfirst(field.label))
        return formset


class NamedDeleteBoxFormSet:
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["aria-label"] = gettext("Delete")


# --- Body areas ----------------------------------------------------------------------------------


@admin.register(BodyArea)
class BodyAreaAdmin(GermanColumnMixin, TranslationAdmin):
    list_display = ["name", "slug", "stretch_count", "german"]
    list_filter = [GermanTranslationFilter]
    ordering = ["name_en"]
    search_fields = ["name_en", "name_de", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    fields = [("name_en", "name_de"), "slug"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(stretch_count=Count("stretches"))

    @admin.display(description=_("stretches"), ordering="stretch_count")
    def stretch_count(self, obj):
        return obj.stretch_count


# --- Stretches -----------------------------------------------------------------------------------


# Each translatable field is edited side by side, English then German, on one row.
LANGS = ("en", "de")


def _pair(name: str) -> tuple[str, str]:
    return tuple(f"{name}_{language}" for language in LANGS)


def _https_urls(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"
VIDEO_ACCEPT = "video/mp4,video/webm"


def _limits_help(what: str, limit: int) -> str:
    return gettext("%(what)s, at most %(size)d MB.") % {"what": what, "size": limit // (1024 * 1024)}


class StretchAdminForm(forms.ModelForm):
    """The stretch, and its video: files and links go through the services, which check them first."""

    video_link = forms.CharField(
        label=_("Video link"),
        required=False,
        max_length=500,
        help_text=_("A YouTube or Vimeo link; YouTube plays from youtube-nocookie.com. Or upload a file below."),
        widget=forms.URLInput(attrs={"size": 60, "placeholder": "https://www.youtube.com/watch?v=…"}),
    )
    video_upload = forms.FileField(
        label=_("Video file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": VIDEO_ACCEPT}),
    )
    video_poster_upload = forms.FileField(
        label=_("Poster picture for the video file"),
        required=False,
        help_text=_("Shown before the video plays; needed with a video file."),
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    video_remove = forms.BooleanField(label=_("Remove the video"), required=False)

    class Meta:
        model = Stretch
        formfield_callback = _https_urls
        fields = [
            *(f"{name}_{language}" for name in ("name", "summary", "steps", "cues", "cautions") for language in LANGS),
            "slug",
            "status",
            "media_url",
            "body_areas",
            "position",
            "equipment",
            "difficulty",
            "default_sets",
            "default_reps",
            "default_hold_seconds",
            "per_side",
        ]
        widgets = {
            # A handful of areas: plain checkboxes, each with its label, not the two-list picker.
            "body_areas": forms.CheckboxSelectMultiple,
            **{
                f"{name}_{language}": forms.Textarea(attrs={"rows": rows})
                for name, rows in (("summary", 2), ("steps", 6), ("cues", 3), ("cautions", 3))
                for language in LANGS
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["video_upload"].help_text = _limits_help(gettext("MP4 or WebM"), settings.MEDIA_VIDEO_MAX_BYTES)
        if self.instance.video_embed_url:
            self.fields["video_link"].initial = self.instance.video_embed_url
        self.video_change = None

    def clean_video_link(self):
        link = self.cleaned_data["video_link"].strip()
        return media.video_embed_normalise(link) if link else ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == Stretch.Status.DRAFT:
            try:
                services.stretch_draft_check(stretch=self.instance)
            except services.ProgramError as error:
                raise ValidationError(str(error)) from None
        self._clean_video(cleaned)
        return cleaned

    def _clean_video(self, cleaned):
        """Check the video before anything is saved; save_model hands the result to the service."""
        upload, poster = cleaned.get("video_upload"), cleaned.get("video_poster_upload")
        link = cleaned.get("video_link", self.instance.video_embed_url)
        if cleaned.get("video_remove"):
            if self.instance.video or self.instance.video_embed_url:
                self.video_change = ("remove",)
            return
        if upload or poster:
            if link:
                self.add_error("video_link", gettext("Give a link or upload a file, not both: clear the link."))
            if not upload:
                self.add_error("video_upload", gettext("Upload the video file with its poster."))
            if not poster:
                self.add_error("video_poster_upload", gettext("A video file needs its poster picture."))
            try:
                if upload:
                    media.video_check(upload)
            except ValidationError as error:
                self.add_error("video_upload", error)
            try:
                if poster:
                    media.image_prepare(poster, max_edge=media.POSTER_MAX_EDGE)
            except ValidationError as error:
                self.add_error("video_poster_upload", error)
            if not self.errors:
                self.video_change = ("upload", upload, poster)
        elif "video_link" in cleaned and link != self.instance.video_embed_url:
            self.video_change = ("embed", link) if link else ("remove",)


class StretchImageForm(forms.ModelForm):
    """A picture: the file is checked here (decoded, within the limits) and stored by the service on save."""

    upload = forms.FileField(
        label=_("Picture file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )

    class Meta:
        model = StretchImage
        fields = ["upload", *_pair("alt"), *_pair("caption"), "side", "order"]
        widgets = {name: forms.Textarea(attrs={"rows": 3, "cols": 40}) for name in _pair("alt")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared = None
        if self.instance.pk:
            # A stored picture is never replaced in place: delete it and add the new one.
            self.fields["upload"].disabled = True
            self.fields["upload"].help_text = gettext("To change the picture, delete this one and add the new one.")
        else:
            self.fields["upload"].help_text = _limits_help(
                gettext("JPEG, PNG or WebP; its camera and location data are removed"), settings.MEDIA_IMAGE_MAX_BYTES
            )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload") if self.instance.pk is None else None
        if upload:
            try:
                self.prepared = media.image_prepare(upload)
            except ValidationError as error:
                self.add_error("upload", error)
        elif self.instance.pk is None and self.has_changed():
            self.add_error("upload", gettext("Choose the picture file."))
        return cleaned

    def _get_validation_exclusions(self):
        # The image and its size are set by the service from the upload, not by this form.
        exclude = super()._get_validation_exclusions()
        return exclude | {"image", "width", "height"}


class StretchImageInline(SortableStackedInline, TranslationStackedInline):
    model = StretchImage
    form = StretchImageForm
    extra = 1
    fields = ["preview", "upload", _pair("alt"), _pair("caption"), "side", "order"]
    readonly_fields = ["preview"]
    verbose_name = _("picture")
    verbose_name_plural = _("pictures, in order (drag ☰ to reorder)")

    @admin.display(description=_("picture"))
    def preview(self, obj):
        if obj.pk is None:
            return gettext("Choose a file below; it is checked and stored when you save.")
        picture = media.picture(obj)
        return format_html(
            '<img class="sh-picture-preview" src="{}" width="{}" height="{}" alt="{}">',
            picture.src,
            240,
            round(240 * picture.height / picture.width),
            picture.alt,
        )


@admin.register(Stretch)
class StretchAdmin(GermanColumnMixin, SortableAdminBase, TranslationAdmin):
    form = StretchAdminForm
    inlines = [StretchImageInline]
    # Explicit: Meta.ordering is dropped from the annotated (GROUP BY) queryset.
    ordering = ["name_en"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "name",
        "status",
        "difficulty",
        "position",
        "equipment",
        "area_list",
        "default_prescription",
        "program_count",
        "german",
    ]
    list_filter = ["status", GermanTranslationFilter, "body_areas", "equipment", "difficulty", "position"]
    search_fields = ["name_en", "name_de", "slug", "summary_en", "summary_de"]
    prepopulated_fields = {"slug": ["name_en"]}
    readonly_fields = ["created_at", "updated_at", "current_video"]
    actions = ["publish_stretches", "draft_stretches"]
    fieldsets = [
        (None, {"fields": [_pair("name"), "slug", "status", _pair("summary")]}),
        (
            _("Instructions"),
            {
                "fields": [_pair("steps"), _pair("cues"), _pair("cautions"), "media_url"],
                "description": _(
                    "English on the left, German on the right. A German field left empty shows the English text."
                ),
            },
        ),
        (
            _("Video"),
            {
                "fields": ["current_video", "video_link", "video_upload", "video_poster_upload", "video_remove"],
                "description": _(
                    "Optional: a YouTube or Vimeo link, or an MP4/WebM file with a poster picture. "
                    "It plays muted in the guided player."
                ),
            },
        ),
        (_("Classification"), {"fields": ["body_areas", "position", "equipment", "difficulty"]}),
        (
            _("Default prescription"),
            {
                "fields": [("default_sets", "default_reps", "default_hold_seconds", "per_side")],
                "description": _(
                    "Copied into a session when the stretch is added with no reps or hold of its own. "
                    "Give either reps or a hold time."
                ),
            },
        ),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("body_areas")
            .annotate(program_count=Count("session_items__session__program", distinct=True))
        )

    @admin.display(description=_("current video"))
    def current_video(self, obj):
        video = media.video(obj) if obj else None
        if video is None:
            return gettext("None")
        if video.kind == "embed":
            return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', video.src, video.src)
        return format_html(
            '<video class="sh-video-preview" src="{}" poster="{}" controls muted preload="none" '
            'aria-label="{}"></video>',
            video.src,
            video.poster,
            gettext("Current video of %(stretch)s") % {"stretch": obj.name},
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        change_video = form.video_change
        if change_video is None:
            return
        if change_video[0] == "remove":
            services.stretch_video_remove(stretch=obj)
        elif change_video[0] == "embed":
            services.stretch_video_embed(stretch=obj, url=change_video[1])
        else:
            services.stretch_video_upload(stretch=obj, video=change_video[1], poster=change_video[2])

    def save_formset(self, request, form, formset, change):
        if formset.model is not StretchImage:
            return super().save_formset(request, form, formset, change)
        stretch = form.instance
        formset.save(commit=False)
        for image in formset.deleted_objects:
            services.stretch_image_delete(image=image)
        kept = []
        for f in formset.forms:
            if not f.cleaned_data or f.cleaned_data.get("DELETE"):
                continue
            if f.instance.pk:
                kept.append((f.cleaned_data.get("order") or 0, f.instance))
            elif f.prepared is not None:
                image = services.stretch_image_add(
                    stretch=stretch,
                    prepared=f.prepared,
                    alt=f.cleaned_data["alt_en"],
                    alt_de=f.cleaned_data.get("alt_de"),
                    caption=f.cleaned_data.get("caption_en") or "",
                    caption_de=f.cleaned_data.get("caption_de"),
                    side=f.cleaned_data.get("side", ""),
                )
                kept.append((f.cleaned_data.get("order") or 10**9, image))
        # Stable sort: the dragged order first, the form's position for ties.
        kept.sort(key=lambda pair: pair[0])
        services.stretch_images_arrange(stretch=stretch, images=[image for _, image in kept])

    @admin.display(description=_("body areas"))
    def area_list(self, obj):
        return ", ".join(area.name for area in obj.body_areas.all())

    @admin.display(description=_("default"))
    def default_prescription(self, obj):
        return obj.default_prescription_text

    @admin.display(description=_("programs"), ordering="program_count")
    def program_count(self, obj):
        return obj.program_count

    @admin.action(description=_("Publish selected stretches"), permissions=["change"])
    def publish_stretches(self, request, queryset):
        count = services.stretch_publish(stretches=queryset)
        message = ngettext("%(count)d stretch published.", "%(count)d stretches published.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Set selected stretches back to draft"), permissions=["change"])
    def draft_stretches(self, request, queryset):
        result = services.stretch_draft(stretches=queryset)
        if result.drafted:
            message = ngettext(
                "%(count)d stretch set back to draft.", "%(count)d stretches set back to draft.", result.drafted
            )
            self.message_user(request, message % {"count": result.drafted}, messages.SUCCESS)
        if result.kept:
            self.message_user(
                request,
                gettext("Kept published because a published program uses them: %(names)s.")
                % {"names": ", ".join(result.kept)},
                messages.WARNING,
            )


# --- Session items (on the session page) ---------------------------------------------------------


class SessionItemForm(forms.ModelForm):
    class Meta:
        model = SessionItem
        fields = ["stretch", "sets", "reps", "hold_seconds", "per_side", "rest_seconds", *_pair("notes"), "order"]
        widgets = {name: forms.TextInput(attrs={"size": 20}) for name in _pair("notes")}

    def clean(self):
        cleaned = super().clean()
        stretch = cleaned.get("stretch")
        # No amount given: start from the stretch's own default prescription.
        if stretch and cleaned.get("reps") is None and cleaned.get("hold_seconds") is None:
            cleaned["reps"] = stretch.default_reps
            cleaned["hold_seconds"] = stretch.default_hold_seconds
            cleaned["per_side"] = cleaned.get("per_side") or stretch.per_side
            if cleaned.get("sets") in (None, 1):
                cleaned["sets"] = stretch.default_sets
        return cleaned

    def _get_validation_exclusions(self):
        # The order is renumbered on save (services.session_items_arrange), so a
        # drag-and-drop swap must not be rejected as "already exists" on the way.
        exclude = super()._get_validation_exclusions()
        exclude.add("order")
        return exclude


class SessionItemFormSet(NamedDeleteBoxFormSet, CustomInlineFormSet):
    def clean(self):
        super().clean()
        session = self.instance
        if session.pk is None or session.program.status != Program.Status.PUBLISHED:
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("stretch")
        ]
        if not kept:
            raise ValidationError(_("This session is part of a published program, so it needs at least one stretch."))


class SessionItemInline(NamedInputsInline, SortableTabularInline, TranslationTabularInline):
    model = SessionItem
    form = SessionItemForm
    formset = SessionItemFormSet
    autocomplete_fields = ["stretch"]
    extra = 1
    verbose_name = _("stretch")
    verbose_name_plural = _("stretches, in order (drag ☰ to reorder; leave reps and hold empty for the default)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stretch")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "stretch":
            # Keep "add a stretch" (a popup) but not edit/view: the row is narrow enough already.
            formfield.widget.can_change_related = False
            formfield.widget.can_view_related = False
        return formfield

    def _editable(self, request, session):
        return session is None or _can_edit_program(request.user, session.program)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(request, obj)


class ProgramSessionForm(forms.ModelForm):
    class Meta:
        model = ProgramSession
        fields = ["program", "week", "day", *_pair("title"), *_pair("notes")]
        widgets = {name: forms.Textarea(attrs={"rows": 2}) for name in _pair("notes")}


@admin.register(ProgramSession)
class ProgramSessionAdmin(SortableAdminBase, GermanColumnMixin, TranslationAdmin):
    form = ProgramSessionForm
    ordering = ["program__title_en", "week", "day"]
    inlines = [SessionItemInline]
    list_display = ["__str__", "program", "item_count", "german"]
    list_filter = [("program", admin.RelatedOnlyFieldListFilter), GermanTranslationFilter]
    list_select_related = ["program"]
    search_fields = ["title_en", "title_de", "program__title_en", "program__title_de"]
    fields = ["program", "week", "day", _pair("title"), _pair("notes")]
    change_form_template = "admin/programs/programsession/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description=_("stretches"), ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    def get_readonly_fields(self, request, obj=None):
        return ["program"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "program" and not request.user.is_superuser:
            kwargs["queryset"] = Program.objects.filter(author=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or _can_edit_program(request.user, obj.program)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or _can_edit_program(request.user, obj.program)
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not SessionItem:
            return super().save_formset(request, form, formset, change)
        session = form.instance
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        kept = [
            f
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and (f.instance.pk or f.has_changed())
        ]
        # Stable sort: the dragged order first, the form's position for ties.
        kept.sort(key=lambda f: (f.cleaned_data.get("order") or 10**9, formset.forms.index(f)))
        for f in kept:
            f.instance.session = session
        services.session_items_arrange(session=session, items=[f.instance for f in kept])

    def _program_url(self, obj):
        return reverse("admin:programs_program_change", args=[obj.program_id])

    def response_add(self, request, obj, post_url_continue=None):
        if "_save" in request.POST:
            self.message_user(request, gettext("Session “%(session)s” added.") % {"session": obj}, messages.SUCCESS)
            return HttpResponseRedirect(self._program_url(obj))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_save" in request.POST:
            self.message_user(request, gettext("Session “%(session)s” saved.") % {"session": obj}, messages.SUCCESS)
            return HttpResponseRedirect(self._program_url(obj))
        return super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        program_id = getattr(self, "_deleted_program_id", None)
        if program_id:
            message = gettext("Session “%(session)s” deleted.") % {"session": obj_display}
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:programs_program_change", args=[program_id]))
        return super().response_delete(request, obj_display, obj_id)

    def delete_model(self, request, obj):
        self._deleted_program_id = obj.program_id
        super().delete_model(request, obj)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # "Add session" from a program page passes the program and the next free day.
        program_id = request.GET.get("program")
        if program_id and str(program_id).isdigit():
            last = (
                ProgramSession.objects.filter(program_id=program_id).order_by("-week", "-day").values("week", "day")
            ).first()
            if last:
                week, day = (last["week"], last["day"] + 2) if last["day"] <= 5 else (last["week"] + 1, 1)
                initial.setdefault("week", week)
                initial.setdefault("day", day)
        return initial

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        program = obj.program if obj else None
        if program is None:
            program_id = request.GET.get("program")
            if program_id and str(program_id).isdigit():
                program = Program.objects.filter(pk=program_id).first()
        context["program"] = program
        if obj is not None:
            siblings = list(ProgramSession.objects.filter(program_id=obj.program_id).order_by("week", "day"))
            index = next(i for i, s in enumerate(siblings) if s.pk == obj.pk)
            context["previous_session"] = siblings[index - 1] if index > 0 else None
            context["next_session"] = siblings[index + 1] if index + 1 < len(siblings) else None
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- Programs ------------------------------------------------------------------------------------


class ProgramSessionInlineFormSet(NamedDeleteBoxFormSet, BaseInlineFormSet):
    def clean(self):
        super().clean()
        program = self.instance
        if program.pk is None or program.status != Program.Status.PUBLISHED:
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError(_("A published program needs at least one session. Unpublish it first."))


class ProgramSessionInline(NamedInputsInline, TranslationTabularInline):
    model = ProgramSession
    formset = ProgramSessionInlineFormSet
    fields = ["week", "day", *_pair("title"), "stretch_summary"]
    readonly_fields = ["stretch_summary"]
    show_change_link = True
    extra = 0
    verbose_name = _("session")
    verbose_name_plural = _("sessions (a day without one is a rest day; open a session to add its stretches)")

    def get_queryset(self, request):
        items = SessionItem.objects.select_related("stretch").order_by("order")
        return super().get_queryset(request).order_by("week", "day").prefetch_related(Prefetch("items", items))

    @admin.display(description=_("stretches"))
    def stretch_summary(self, obj):
        if obj.pk is None:
            return gettext("Save, then open the session to add stretches.")
        items = list(obj.items.all())
        if not items:
            return format_html('<strong class="errornote-inline">{}</strong>', gettext("No stretches yet"))
        return format_html_join(", ", "{} <small>({})</small>", ((i.stretch.name, i.prescription_text) for i in items))

    def _editable(self, request, program):
        return _can_edit_program(request.user, program)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(request, obj)


class BodyAreaFilter(admin.SimpleListFilter):
    title = _("body area")
    parameter_name = "body_area"

    def lookups(self, request, model_admin):
        return [(area.slug, area.name) for area in BodyArea.objects.all()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        area = BodyArea.objects.filter(slug=self.value()).first()
        return selectors.programs_touching_body_area(queryset, body_area=area) if area else queryset.none()


class ProgramAdminForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [*_pair("title"), "slug", *_pair("summary"), *_pair("goal"), "level", "author"]
        widgets = {
            **{name: forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}) for name in _pair("summary")},
            **{name: forms.Textarea(attrs={"rows": 5, "class": "vLargeTextField"}) for name in _pair("goal")},
        }


@admin.register(Program)
class ProgramAdmin(GermanColumnMixin, TranslationAdmin):
    form = ProgramAdminForm
    ordering = ["title_en"]
    inlines = [ProgramSessionInline]
    list_display = [
        "title",
        "status",
        "level",
        "author",
        "week_count",
        "session_count",
        "enrolled_count",
        "updated_at",
        "german",
    ]
    list_filter = [
        "status",
        GermanTranslationFilter,
        "level",
        BodyAreaFilter,
        ("author", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["author"]
    search_fields = [
        "title_en",
        "title_de",
        "slug",
        "summary_en",
        "summary_de",
        "author__username",
        "author__display_name",
    ]
    prepopulated_fields = {"slug": ["title_en"]}
    actions = ["publish_programs", "unpublish_programs", "archive_programs", "duplicate_programs"]
    view_on_site = False
    save_on_top = True
    change_form_template = "admin/programs/program/change_form.html"

    def get_queryset(self, request):
        current = Enrolment.objects.filter(program=OuterRef("pk"), status__in=Enrolment.CURRENT_STATUSES)
        enrolled = current.order_by().values("program").annotate(n=Count("pk")).values("n")
        return (
            super()
            .get_queryset(request)
            .annotate(
                weeks=Max("sessions__week"),
                session_count=Count("sessions", distinct=True),
                enrolled_count=Coalesce(Subquery(enrolled, output_field=IntegerField()), 0),
            )
        )

    @admin.display(description=_("weeks"), ordering="weeks")
    def week_count(self, obj):
        return obj.weeks or 0

    @admin.display(description=_("sessions"), ordering="session_count")
    def session_count(self, obj):
        return obj.session_count

    @admin.display(description=_("enrolled now"), ordering="enrolled_count")
    def enrolled_count(self, obj):
        return obj.enrolled_count

    def get_readonly_fields(self, request, obj=None):
        readonly = ["status", "published_at", "created_at", "updated_at"]
        if not request.user.is_superuser:
            readonly.append("author")
        return readonly

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": [_pair("title"), "slug", _pair("summary"), _pair("goal"), "level"]}),
            (_("Publishing"), {"fields": ["status", "author", "published_at", "created_at", "updated_at"]}),
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "author":
            kwargs["queryset"] = get_user_model().objects.filter(Q(is_staff=True) | Q(is_superuser=True))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _can_edit_program(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _can_edit_program(request.user, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = obj.author or request.user
        super().save_model(request, obj, form, change)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["preview_url"] = reverse("programs:preview", kwargs={"slug": obj.slug})
            context["publish_problems"] = (
                services.program_publish_problems(program=obj) if obj.status != Program.Status.PUBLISHED else []
            )
            context["can_edit_program"] = _can_edit_program(request.user, obj)
            context["add_session_url"] = reverse("admin:programs_programsession_add") + f"?program={obj.pk}"
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Buttons on the change page (templates/admin/programs/program/submit_line.html).
    def response_change(self, request, obj):
        for name, action in [
            ("_publish", self._publish_one),
            ("_unpublish", self._unpublish_one),
            ("_archive", self._archive_one),
        ]:
            if name in request.POST:
                action(request, obj)
                return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Duplicate is offered on read-only pages too, so it is handled before the
        # change permission would turn the POST away.
        if request.method == "POST" and "_duplicate" in request.POST:
            obj = self.get_object(request, object_id)
            if obj is not None and self.has_view_permission(request, obj) and self.has_add_permission(request):
                copy = services.program_duplicate(program=obj, author=request.user)
                message = gettext("Made a draft copy “%(title)s”: it is yours to change.") % {"title": copy.title}
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:programs_program_change", args=[copy.pk]))
        return super().change_view(request, object_id, form_url, extra_context)

    def _publish_one(self, request, obj):
        try:
            services.program_publish(program=obj)
        except services.ProgramError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            message = gettext("“%(title)s” is published: members can find and enrol in it.")
            self.message_user(request, message % {"title": obj.title})

    def _unpublish_one(self, request, obj):
        services.program_unpublish(program=obj)
        message = gettext("“%(title)s” is a draft again: hidden from the catalogue.")
        self.message_user(request, message % {"title": obj.title}, messages.SUCCESS)

    def _archive_one(self, request, obj):
        services.program_archive(program=obj)
        message = gettext("“%(title)s” is archived: hidden from the catalogue.")
        self.message_user(request, message % {"title": obj.title}, messages.SUCCESS)

    def _editable_or_warn(self, request, queryset):
        allowed = [p for p in queryset if _can_edit_program(request.user, p)]
        refused = [p.title for p in queryset if not _can_edit_program(request.user, p)]
        if refused:
            message = gettext("Skipped programs you did not write: %(titles)s.") % {
                "titles": ", ".join(sorted(refused))
            }
            self.message_user(request, message, messages.WARNING)
        return allowed

    @admin.action(description=_("Publish selected programs"), permissions=["change"])
    def publish_programs(self, request, queryset):
        published = 0
        for program in self._editable_or_warn(request, queryset):
            try:
                services.program_publish(program=program)
            except services.ProgramError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                published += 1
        if published:
            message = ngettext("%(count)d program published.", "%(count)d programs published.", published)
            self.message_user(request, message % {"count": published}, messages.SUCCESS)

    @admin.action(description=_("Unpublish selected programs (back to draft)"), permissions=["change"])
    def unpublish_programs(self, request, queryset):
        programs = self._editable_or_warn(request, queryset)
        for program in programs:
            services.program_unpublish(program=program)
        if programs:
            message = ngettext(
                "%(count)d program set back to draft.", "%(count)d programs set back to draft.", len(programs)
            )
            self.message_user(request, message % {"count": len(programs)}, messages.SUCCESS)

    @admin.action(description=_("Archive selected programs"), permissions=["change"])
    def archive_programs(self, request, queryset):
        programs = self._editable_or_warn(request, queryset)
        for program in programs:
            services.program_archive(program=program)
        if programs:
            message = ngettext("%(count)d program archived.", "%(count)d programs archived.", len(programs))
            self.message_user(request, message % {"count": len(programs)}, messages.SUCCESS)

    @admin.action(description=_("Duplicate selected programs (as your drafts)"), permissions=["add"])
    def duplicate_programs(self, request, queryset):
        copies = [services.program_duplicate(program=program, author=request.user) for program in queryset]
        names = ", ".join(f"“{c.title}” ({c.slug})" for c in copies)
        message = ngettext(
            "Made %(count)d draft copy: %(names)s.", "Made %(count)d draft copies: %(names)s.", len(copies)
        )
        self.message_user(request, message % {"count": len(copies), "names": names})


# Django only autodiscovers admin.py: the trainers' adherence view lives in its own
# module. (programs/reminders/admin.py is found on its own: reminders is an app.)
from . import admin_adherence  # noqa: F401,E402
