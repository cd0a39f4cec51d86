"""Reading and writing ICS documents.

`parser.parse_ics(text)` turns the text of an ICS document (plain text or Markdown, as
extracted from a PDF or typed) into a `ParsedDocument`; `strategy.services.strategy_import`
writes it. `extract.document_text` decodes uploaded bytes. The parser and extractor never
touch the database; `render.render_markdown` reads a strategy's nodes (one query) to write
the document back out.
"""
