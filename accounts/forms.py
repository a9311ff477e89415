from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import WEEKDAYS, User
from .selectors import timezone_choices
from .services import normalize_email
from .validators import validate_timezone


class LanguageSelect(forms.Select):
    """Each language named in itself, marked with its lang so screen readers pronounce it right."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["lang"] = value
        return option


class TimezoneSelect(forms.Select):
    """A grouped <select> of IANA names that still shows a valid name missing from the list (a legacy alias)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=timezone_choices())

    def get_context(self, name, value, attrs):
        known = {code for _group, options in self.choices for code, _label in options}
        if value and value not in known:
            self.choices = [*self.choices, (_("Other"), [(value, value)])]
        return super().get_context(name, value, attrs)


def timezone_field(**kwargs) -> forms.CharField:
    return forms.CharField(
        label=_("Time zone"),
        max_length=64,
        validators=[validate_timezone],
        widget=TimezoneSelect(attrs={"autocomplete": "off"}),
        help_text=_("Reminders and “today” follow this time zone."),
        **kwargs,
    )


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"}),
        help_text=_("We send a link to confirm it before you enrol."),
    )
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("Shown on your pages and in our emails."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not a common password and not only digits."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    timezone = timezone_field(initial="UTC")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            # static/js/timezone.js replaces UTC with the browser's zone on a fresh form only.
            self.fields["timezone"].widget.attrs["data-suggest-browser-timezone"] = "replace"

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this email address already exists. Log in, or reset your password."),
                code="email_taken",
            )
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", forms.ValidationError(_("The two passwords differ."), code="password_mismatch"))
        elif password1:
            # Checked against a user built from the form so the similarity
            # validator can compare the password with the email and name.
            probe = User(email=cleaned.get("email", ""), display_name=cleaned.get("display_name", ""))
            probe.username = (cleaned.get("email") or "").split("@")[0]
            try:
                password_validation.validate_password(password1, user=probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class LoginForm(AuthenticationForm):
    """Django's login form; the "username" field takes an email address as well."""

    username = forms.CharField(
        label=_("Email or username"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email or username and password do not match an account. Check both and try again."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sizes this field for usernames (150); an email address may be longer.
        self.fields["username"].max_length = 254
        self.fields["username"].widget.attrs["maxlength"] = 254


class SettingsForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        widget=LanguageSelect,
        required=False,
        help_text=_("Of these pages and of every email we send you."),
    )
    display_name = forms.CharField(
        label=_("Your name"), max_length=80, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    timezone = timezone_field()
    default_reminder_time = forms.TimeField(
        label=_("Default reminder time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Suggested when you enrol in a program; each enrolment keeps its own time."),
    )
    email_reminders = forms.BooleanField(
        label=_("Send me reminder emails"),
        required=False,
        help_text=_("When off, no reminder is sent for any program."),
    )
    nudge_emails = forms.BooleanField(
        label=_("Send me a catch-up email the day after I miss a session"),
        required=False,
        help_text=_("Only on a day without a session of its own, at your reminder time."),
    )
    weekly_summary_emails = forms.BooleanField(
        label=_("Send me a weekly summary"),
        required=False,
        help_text=_("Sessions done, streaks, your pain scores and next week's sessions, once a week."),
    )
    # Not required: a form that leaves them out (an older page, a script) keeps the stored values.
    weekly_summary_day = forms.TypedChoiceField(
        label=_("Weekly summary day"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose a day of the week, Monday to Sunday.")},
    )
    weekly_summary_time = forms.TimeField(
        label=_("Weekly summary time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In your time zone. The summary covers the seven days up to that day."),
    )
    trainer_digest_emails = forms.BooleanField(
        label=_("Send me a daily digest of members who slipped"),
        required=False,
        help_text=_("At 08:00 your time, only on days a member of your programs newly slipped."),
    )

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "language": user.language,
                "display_name": user.display_name,
                "timezone": user.timezone,
                "default_reminder_time": user.default_reminder_time,
                "email_reminders": user.email_reminders,
                "nudge_emails": user.nudge_emails,
                "weekly_summary_emails": user.weekly_summary_emails,
                "weekly_summary_day": user.weekly_summary_day,
                "weekly_summary_time": user.weekly_summary_time,
                "trainer_digest_emails": user.trainer_digest_emails,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["timezone"].widget.attrs["data-suggest-browser-timezone"] = "offer"
        if not user.is_trainer:
            del self.fields["trainer_digest_emails"]

    def settings_values(self) -> dict:
        """The keyword arguments of user_update_settings; a field not on the form is left unchanged."""
        data = self.cleaned_data
        return {
            "display_name": data["display_name"],
            "timezone_name": data["timezone"],
            "default_reminder_time": data["default_reminder_time"],
            "email_reminders": data["email_reminders"],
            "nudge_emails": data["nudge_emails"],
            "weekly_summary_emails": data["weekly_summary_emails"],
            "weekly_summary_day": data.get("weekly_summary_day"),
            "weekly_summary_time": data.get("weekly_summary_time"),
            "trainer_digest_emails": data.get("trainer_digest_emails"),
            "language": data.get("language") or None,
        }


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To be sure it is you."),
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password. Nothing was deleted."), code="password_incorrect")
        return password
