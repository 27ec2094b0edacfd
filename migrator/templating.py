"""The one Jinja set-up every rendered report shares.

Templates are written as their output should look: block tags leave no blank
lines behind and a file keeps its final newline.  HTML is escaped and Markdown
is not; a template of any other kind is escaped too, the safer mistake.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape


def environment(package: str) -> Environment:
    """The templates in ``package``'s ``templates/`` folder."""
    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("md",), default=True
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
