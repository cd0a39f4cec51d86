"""Django admin for operators: usable lists, filters, search, the tree as inlines.

Staff edits here are recorded by django-simple-history like any other write (the request
user is the history author). The tree's derived columns (parent_kind, sort_key) are
filled in the same way the services fill them.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from strategy.models import Membership, Milestone, Mission, Node, Strategy, code_sort_key


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin with our own history list: the library's styles its pager with a
    style attribute, which the site's Content-Security-Policy refuses."""

    object_history_list_template = "admin/history_list.html"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Mission)
class MissionAdmin(HistoryAdmin):
    list_display = ["name", "country", "slug", "created_at"]
    search_fields = ["name", "country", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(HistoryAdmin):
    list_display = ["user", "mission", "role"]
    list_filter = ["role", "mission"]
    search_fields = ["user__username", "user__email", "mission__name"]
    autocomplete_fields = ["user", "mission"]


class RootNodeInline(admin.TabularInline):
    """Goals and management objectives of a strategy; open one to edit its children."""

    model = Node
    fk_name = "strategy"
    fields = ["kind", "code", "title", "owner"]
    show_change_link = True
    extra = 0
    autocomplete_fields = ["owner"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(parent__isnull=True)


@admin.register(Strategy)
class StrategyAdmin(HistoryAdmin):
    list_display = ["title", "mission", "kind", "period_label", "status", "reviewed_on"]
    list_filter = ["status", "kind", "mission"]
    search_fields = ["title", "mission__name"]
    date_hierarchy = "reviewed_on"
    inlines = [RootNodeInline]


class ChildNodeInline(admin.TabularInline):
    model = Node
    fk_name = "parent"
    fields = ["kind", "code", "title", "owner"]
    show_change_link = True
    extra = 0
    autocomplete_fields = ["owner"]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["title", "due_on", "completed_on", "owner"]
    autocomplete_fields = ["owner"]


@admin.register(Node)
class NodeAdmin(HistoryAdmin):
    list_display = ["code", "kind", "short_title", "strategy", "owner", "updated_at"]
    list_filter = ["kind", "strategy__mission", "strategy"]
    search_fields = ["code", "title", "description", "justification"]
    list_select_related = ["strategy", "owner"]
    autocomplete_fields = ["strategy", "parent", "owner"]
    readonly_fields = ["parent_kind", "sort_key", "created_at", "updated_at"]
    inlines = [ChildNodeInline, MilestoneInline]

    @admin.display(description="title")
    def short_title(self, obj: Node) -> str:
        return obj.title[:80]

    def save_model(self, request, obj, form, change):
        obj.parent_kind = obj.parent.kind if obj.parent_id else ""
        obj.sort_key = code_sort_key(obj.kind, obj.code)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for child in formset.save(commit=False):
            if isinstance(child, Node):
                child.parent_kind = child.parent.kind if child.parent_id else ""
                child.sort_key = code_sort_key(child.kind, child.code)
                child.strategy_id = (
                    child.parent.strategy_id if child.parent_id else child.strategy_id
                )
            child.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(Milestone)
class MilestoneAdmin(HistoryAdmin):
    list_display = ["title", "node", "due_on", "completed_on", "owner"]
    list_filter = ["node__strategy__mission", "completed_on"]
    search_fields = ["title", "node__title", "node__code"]
    date_hierarchy = "due_on"
    autocomplete_fields = ["node", "owner"]
