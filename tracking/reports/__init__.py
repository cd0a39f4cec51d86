"""Status reports, subscriptions, deliveries and reminders (SPEC §2.3).

periods.py    which period a cadence reports on, and when it is due (local time zone)
selectors.py  the report snapshot built from `tracking.selectors.strategy_trees`; lists
services.py   every write: subscriptions, asking for a report, building it, deliveries,
              sending with a conditional claim, reminders
render.py     the snapshot as HTML page, e-mail (subject/text/html), PDF and XLSX
"""
