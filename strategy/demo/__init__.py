"""The demo ICS document (`ics-demo.md`) that `manage.py load_demo` imports."""
