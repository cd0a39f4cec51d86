"""Reading and writing ICS documents.

`parser.parse_ics(text)` turns the text of an ICS document (plain text or Markdown, as
extracted from a PDF or typed) into a `ParsedDocument`; `strategy.services.strategy_import`
writes it. Nothing in this package touches the database.
"""
