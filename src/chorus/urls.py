from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import set_language

from chorus.api.urls import api
from chorus.web.views import auth, governance, networks, profile, workspace

urlpatterns = [
    path("", workspace.home, name="home"),
    path("signup/", auth.sign_up, name="sign_up"),
    path("login/", auth.ChorusLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("invitations/<str:token>/", auth.invitation_accept, name="invitation_accept"),
    path("workspaces/new/", workspace.workspace_new, name="workspace_new"),
    path("workspaces/switch/", workspace.switch_workspace, name="switch_workspace"),
    path("workspace/settings/", workspace.workspace_settings, name="workspace_settings"),
    path("members/", workspace.members, name="members"),
    path("members/invite/", workspace.invite, name="invite"),
    path(
        "members/invitations/<int:invitation_id>/revoke/",
        workspace.invitation_revoke,
        name="invitation_revoke",
    ),
    path("members/<int:membership_id>/role/", workspace.member_role, name="member_role"),
    path("members/<int:membership_id>/remove/", workspace.member_remove, name="member_remove"),
    path("teams/", workspace.team_create, name="team_create"),
    path("teams/<int:team_id>/members/", workspace.team_members, name="team_members"),
    path("teams/<int:team_id>/delete/", workspace.team_delete, name="team_delete"),
    path("social-accounts/", networks.social_accounts, name="social_accounts"),
    path(
        "social-accounts/connect/<str:provider>/password/",
        networks.connect_password,
        name="connect_password",
    ),
    path(
        "social-accounts/connect/<str:provider>/oauth/",
        networks.connect_oauth,
        name="connect_oauth",
    ),
    path("social-accounts/oauth/callback/", networks.oauth_callback, name="oauth_callback"),
    path("social-accounts/<int:account_id>/", networks.account_detail, name="account_detail"),
    path("social-accounts/<int:account_id>/check/", networks.account_check, name="account_check"),
    path(
        "social-accounts/<int:account_id>/members/",
        networks.account_members,
        name="account_members",
    ),
    path(
        "social-accounts/<int:account_id>/disconnect/",
        networks.account_disconnect,
        name="account_disconnect",
    ),
    path("governance/audit/", governance.audit_log, name="audit_log"),
    path("governance/audit/export.csv", governance.audit_export, name="audit_export"),
    path("governance/policies/", governance.policies, name="policies"),
    path("governance/policies/new/", governance.policy_create, name="policy_create"),
    path("governance/policies/check/", governance.policy_check, name="policy_check"),
    path("governance/policies/<int:policy_id>/", governance.policy_edit, name="policy_edit"),
    path(
        "governance/policies/<int:policy_id>/delete/",
        governance.policy_delete,
        name="policy_delete",
    ),
    path("me/", profile.preferences, name="preferences"),
    path("me/tokens/", profile.api_tokens, name="api_tokens"),
    path("me/tokens/<int:token_id>/revoke/", profile.api_token_revoke, name="api_token_revoke"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
]
