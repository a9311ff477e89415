import json
import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from stretchhub import vapid
from stretchhub.client_ip import client_ip
from stretchhub.i18n import LANGUAGE_PARAM, supported_language, user_language
from stretchhub.ratelimit import rate_limit_hit

from . import services
from .forms import DeleteAccountForm, LoginForm, SettingsForm, SignupForm
from .models import PushSubscription
from .selectors import user_data_export
from .tokens import VerificationError, user_from_verification_token

# The backend a freshly signed-up or reset member is logged in with (axes only checks, never logs in).
LOGIN_BACKEND = "accounts.backends.EmailOrUsernameBackend"


def _too_many(wait: float) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return ngettext(
        "Too many attempts from here. Please try again in %(minutes)d minute.",
        "Too many attempts from here. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path on this site: redirect() would take "a:b" for a URL name, and reversing it is a 500.
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


# The devices this browser session switched push on for: forgotten at logout.
PUSH_SESSION_KEY = "push_subscriptions"


class LogoutView(auth_views.LogoutView):
    """Django's logout, which also leaves nothing of the member in this browser (docs/push.md).

    The device stops getting the member's pushes, and Clear-Site-Data tells the
    browser to drop the pages the service worker kept for offline use, the
    queued offline ticks and the service worker itself, so whoever uses this
    browser profile next finds none of them.
    """

    def post(self, request, *args, **kwargs):
        user = request.user
        ids = request.session.get(PUSH_SESSION_KEY, [])
        if user.is_authenticated:
            services.push_subscriptions_signed_out(
                user=user, ids=ids, endpoint=request.POST.get("push_endpoint", "")[:2048]
            )
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    next_url = _safe_next(request)
    status = 200
    if request.method == "POST":
        form = SignupForm(request.POST)
        wait = None
        if form.is_valid():
            wait = rate_limit_hit(f"accounts:signup:{client_ip(request)}", settings.ACCOUNT_SIGNUP_RATE)
        if wait is not None:
            form.add_error(None, _too_many(wait))
            status = 429
        elif form.is_valid():
            try:
                user = services.user_signup(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                    display_name=form.cleaned_data["display_name"],
                    timezone_name=form.cleaned_data["timezone"],
                    language=translation.get_language(),
                )
            except services.AccountError as error:
                form.add_error("email" if isinstance(error, services.EmailTaken) else None, str(error))
            else:
                login(request, user, backend=LOGIN_BACKEND)
                target = reverse("accounts:verify_sent")
                return redirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)
    else:
        form = SignupForm()
    return render(request, "accounts/signup.html", {"form": form, "next": next_url}, status=status)


@login_required
def verify_sent(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified_at is not None:
        return redirect(_safe_next(request) or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/verify_sent.html", {"next": _safe_next(request)})


@login_required
@require_POST
def verify_resend(request: HttpRequest) -> HttpResponse:
    try:
        services.user_send_verification(user=request.user)
    except services.AccountError as error:
        messages.info(request, str(error))
    else:
        messages.success(
            request, gettext("We sent a new confirmation link to %(email)s.") % {"email": request.user.email}
        )
    return redirect(_safe_next(request) or reverse("accounts:verify_sent"))


@never_cache
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button; POST verifies. Mail scanners and link previews
    # follow GET links, so a GET must never change state.
    if request.method == "POST":
        try:
            user, changed = services.user_verify_email(token=token)
        except services.AccountError as error:
            return render(request, "accounts/verify_email.html", {"error": str(error)}, status=400)
        if changed:
            messages.success(
                request, gettext("Thank you: your email address is confirmed. You can enrol in programs now.")
            )
        else:
            messages.info(request, gettext("Your email address was already confirmed."))
        if request.user.is_authenticated and request.user.pk == user.pk:
            return redirect(settings.LOGIN_REDIRECT_URL)
        return redirect(reverse("accounts:login"))
    try:
        user = user_from_verification_token(token)
    except VerificationError as error:
        return render(request, "accounts/verify_email.html", {"error": str(error)}, status=400)
    return render(request, "accounts/verify_email.html", {"verify_user": user})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


class PasswordResetForm(auth_forms.PasswordResetForm):
    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        # In the account holder's language, not the language of whoever asked for the link.
        with translation.override(user_language(context["user"])):
            super().send_mail(subject_template_name, email_template_name, context, from_email, to_email, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "registration/password_reset_form.html"
    subject_template_name = "registration/password_reset_subject.txt"
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Counted by the address typed, whether or not an account has it, so the
        # answer reveals nothing about which addresses are members.
        wait = rate_limit_hit(
            f"accounts:password-reset:{client_ip(self.request)}", settings.ACCOUNT_PASSWORD_RESET_RATE
        ) or rate_limit_hit(
            f"accounts:password-reset-inbox:{form.cleaned_data['email'].casefold()}",
            settings.ACCOUNT_PASSWORD_RESET_EMAIL_RATE,
        )
        if wait is not None:
            form.add_error(None, _too_many(wait))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        # Links are built from SITE_URL, not from the request's Host header, so a
        # forged Host cannot point a reset link at someone else's server.
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = True
    post_reset_login_backend = LOGIN_BACKEND

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_reset_done(user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = SettingsForm(request.POST, user=user)
        if form.is_valid():
            services.user_update_settings(user=user, **form.settings_values())
            # Said in the language just chosen: the next page is in it.
            with translation.override(user_language(user)):
                messages.success(request, gettext("Your settings are saved."))
            return redirect("accounts:settings")
    else:
        form = SettingsForm(user=user)
    context = {
        "form": form,
        "push_devices": list(PushSubscription.objects.filter(user=user)),
        "vapid_public_key": vapid.public_key(settings.VAPID_PRIVATE_KEY) if settings.VAPID_PRIVATE_KEY else "",
    }
    return render(request, "accounts/settings.html", context)


def _json_error(message: str, *, code: str, status: int, errors: dict | None = None) -> JsonResponse:
    return JsonResponse({"message": message, "code": code, "errors": errors or {}}, status=status)


@never_cache
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """The settings page's script sends this device's subscription (PushSubscription.toJSON())."""
    if not request.user.is_authenticated:
        return _json_error("Log in to switch push on.", code="not_authenticated", status=401)
    if not settings.VAPID_PRIVATE_KEY:
        return _json_error("Push is not set up on this server.", code="push_unavailable", status=503)
    try:
        # Only JSON: a form post has been read as form data already, and is not a subscription.
        if request.content_type != "application/json":
            raise ValueError
        body = json.loads(request.body)
        endpoint, keys = body["endpoint"], body["keys"]
        p256dh, auth = keys["p256dh"], keys["auth"]
        if not all(isinstance(value, str) for value in (endpoint, p256dh, auth)):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return _json_error(
            'Send {"endpoint": …, "keys": {"p256dh": …, "auth": …}} as JSON.', code="invalid", status=400
        )
    try:
        subscription, created = services.push_subscription_save(
            user=request.user,
            endpoint=endpoint,
            p256dh=p256dh,
            auth=auth,
            user_agent=request.headers.get("User-Agent", ""),
        )
    except services.PushSubscriptionError as error:
        return _json_error(str(error), code="invalid_subscription", status=400)
    ids = [pk for pk in request.session.get(PUSH_SESSION_KEY, []) if pk != subscription.pk]
    request.session[PUSH_SESSION_KEY] = [*ids, subscription.pk]
    return JsonResponse(
        {"id": subscription.pk, "label": subscription.label, "created": created}, status=201 if created else 200
    )


@login_required
@require_POST
def push_remove(request: HttpRequest, pk: int) -> HttpResponse:
    # Through the member's own devices: another member's id is a 404.
    subscription = get_object_or_404(PushSubscription, pk=pk, user=request.user)
    services.push_subscription_remove(subscription=subscription)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"removed": pk})
    messages.success(request, f"Push is off for {subscription.label or 'that device'}.")
    return redirect("accounts:settings")


@login_required
@never_cache
def data_export(request: HttpRequest) -> HttpResponse:
    data = user_data_export(user=request.user)
    data["exported_at"] = timezone.now().isoformat()
    local_today = timezone.now().astimezone(request.user.tzinfo).date()
    filename = f"stretchhub-my-data-{local_today:%Y-%m-%d}.json"
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = DeleteAccountForm(request.POST, user=request.user)
        if form.is_valid():
            services.user_delete_account(user=request.user)
            logout(request)
            messages.success(request, gettext("Your account and personal data are deleted. Take care of your back!"))
            return redirect("home")
    else:
        form = DeleteAccountForm(user=request.user)
    return render(request, "accounts/delete.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The footer switcher: Django's set_language (cookie, redirect back), and a member's saved language too."""
    language = supported_language(request.POST.get("language"))
    # Back to the same page without its ?lang=, which would otherwise win over the choice just made.
    next_url = request.POST.get("next") or ""
    if next_url:
        path, _, query = next_url.partition("?")
        kept = [part for part in query.split("&") if part and not part.startswith(f"{LANGUAGE_PARAM}=")]
        request.POST = request.POST.copy()
        request.POST["next"] = f"{path}?{'&'.join(kept)}" if kept else path
    response = django_set_language(request)
    if language and request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    return response
