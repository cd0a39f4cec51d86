"""Browser pages of `strategy`: the signed-in user's API tokens and the ICS import page
(upload → preview → confirm; a superuser may also import into a mission the document names)."""

from django.urls import path

from strategy import views

urlpatterns = [
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("account/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("missions/<int:pk>/import/", views.strategy_import_page, name="strategy-import"),
    path(
        "missions/<int:pk>/import/confirm/",
        views.strategy_import_confirm,
        name="strategy-import-confirm",
    ),
    path("missions/import/", views.strategy_import_page, name="strategy-import-new-mission"),
    path(
        "missions/import/confirm/",
        views.strategy_import_confirm,
        name="strategy-import-new-mission-confirm",
    ),
]
