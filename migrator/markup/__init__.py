"""Convert ticket text between the markups of old and new trackers.

Why a converter of our own: no maintained library reads Trac WikiFormatting,
and pandoc (which reads Textile, Jira and Markdown) costs a process start per
text, far beyond the plan's budget of tens of microseconds per comment, and
shows less of what the trackers show (bench/markup.py measures both).  So
every syntax is read into one small document tree and written out again:
readers for Trac, Redmine Textile, Jira, ADF, HTML and plain text are our
own, each following what its tracker shows (Trac 1.6's formatter, Redmine's
RedCloth3, Atlassian's wiki-markup transformer); Markdown is read with
markdown-it-py (a CommonMark-compliant parser) plus GitHub's additions; the
writers target Redmine's Textile (RedCloth3 with hard breaks), CommonMark/GFM,
Jira wiki markup, Atlassian Document Format (Jira Cloud's JSON) and plain text
(and Trac, so that every pair is defined).

The layout follows from that: :mod:`migrator.markup.tree` is the document
model, ``readers/`` holds one module per syntax read into it, ``writers/`` one
per syntax written from it (N syntaxes cost 2N modules, not N²), and
:mod:`migrator.markup.convert` joins a reader to a writer.

Invariants the tests hold us to: code blocks come out byte-exact, no word is
ever dropped (what cannot be converted is kept as written and counted as a
``markup-literal`` warning), output is deterministic, same syntax in and out
returns the text untouched, ADF validates against Atlassian's schema, and
the target tracker shows what the source tracker showed (tests/markup).
Line endings of the input are kept (CRLF in, CRLF out).

References (``#123``, ``ticket:123``) and mentions are *not* rewritten here;
:mod:`migrator.mapping.references` does that, before or after conversion.
"""

from migrator.markup.convert import FORMATS, SYNTAXES, Converted, convert

__all__ = ["FORMATS", "SYNTAXES", "Converted", "convert"]
