"""Browser pages of the tracker. The pages live in `tracking`, not `strategy`, because
they show statuses, which `tracking` computes (`strategy` never imports `tracking`)."""

from django.urls import path

from tracking import views

urlpatterns = [
    path("", views.home, name="home"),
    path("strategies/<int:pk>/", views.strategy_detail, name="strategy-detail"),
]
