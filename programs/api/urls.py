"""/api/v1/: catalogue, auth, me, enrolments (members), partner/… (partners), schema and docs."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts.api import views as account_views
from stretchhub.api.exceptions import api_not_found
from stretchhub.api.fields import ID_REGEX
from webhooks.api import views as webhook_views

from . import views

app_name = "api"

router = SimpleRouter()
router.register("body-areas", views.BodyAreaViewSet, basename="body-area")
router.register("stretches", views.StretchViewSet, basename="stretch")
router.register("programs", views.ProgramViewSet, basename="program")
router.register("enrolments", views.EnrolmentViewSet, basename="enrolment")
router.register(rf"enrolments/(?P<enrolment_pk>{ID_REGEX})/completions", views.CompletionViewSet, basename="completion")
router.register("partner/members", account_views.PartnerMemberViewSet, basename="partner-member")
router.register(
    rf"partner/members/(?P<member_pk>{ID_REGEX})/enrolments",
    views.PartnerEnrolmentViewSet,
    basename="partner-enrolment",
)
router.register(
    rf"partner/members/(?P<member_pk>{ID_REGEX})/enrolments/(?P<enrolment_pk>{ID_REGEX})/completions",
    views.PartnerCompletionViewSet,
    basename="partner-completion",
)
router.register("partner/webhooks", webhook_views.WebhookEndpointViewSet, basename="partner-webhook")
router.register("partner/events", webhook_views.WebhookEventViewSet, basename="partner-event")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", account_views.TokenView.as_view(), name="token"),
    path("me/", account_views.MeView.as_view(), name="me"),
    path("me/calendar-token/", account_views.CalendarTokenView.as_view(), name="calendar-token"),
    *router.urls,
    re_path(r"^", api_not_found),
]
