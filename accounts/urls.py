from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("verify/sent/", views.verify_sent, name="verify_sent"),
    path("verify/resend/", views.verify_resend, name="verify_resend"),
    path("verify/<str:token>/", views.verify_email, name="verify"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("settings/", views.account_settings, name="settings"),
    path("settings/push/", views.push_subscribe, name="push_subscribe"),
    path("settings/push/<int:pk>/remove/", views.push_remove, name="push_remove"),
    path("export/", views.data_export, name="export"),
    path("delete/", views.delete_account, name="delete"),
]
