"""Browser pages of `strategy`: the signed-in user's API tokens."""

from django.urls import path

from strategy import views

urlpatterns = [
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("account/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
