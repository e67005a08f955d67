"""The last check on every report page: nothing a browser would run or fetch."""

from __future__ import annotations

import re

__all__ = ["active_content"]

#: Elements that run code, load other pages or send data; none belongs in a client report.
_ACTIVE_TAGS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "link", "portal"}
)
#: Attributes holding a URL; only embedded images may use a ``data:`` URL.
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset", "ping"}
)
#: An image in an ``<img>`` runs no script, whatever its format.
_SAFE_DATA_URL = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,", re.IGNORECASE)
_UNSAFE_SCHEME = re.compile(r"^(javascript|vbscript|data|file):", re.IGNORECASE)


def active_content(html: str) -> str:
    """The first thing in ``html`` a browser would run or fetch, described; "" when none.

    A last check on every report page, whatever the templates do: script-like elements,
    event-handler attributes (``onerror=``, ...), ``javascript:`` and non-image ``data:``
    URLs, a ``<meta http-equiv>`` refresh. Text that merely looks like markup (escaped
    ``&lt;script&gt;``) is text, and passes.
    """
    from html.parser import HTMLParser

    found: list[str] = []

    class Scan(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if found:
                return
            if tag in _ACTIVE_TAGS:
                found.append(f"a <{tag}> element")
                return
            for name, value in attrs:
                # browsers ignore control characters and spaces inside a URL's scheme
                url = re.sub(r"[\x00-\x20\x7f]+", "", value or "")
                if name.startswith("on"):
                    found.append(f"an event handler ({name}= on <{tag}>)")
                elif (
                    name in _URL_ATTRIBUTES
                    and _UNSAFE_SCHEME.match(url)
                    and not (tag == "img" and name == "src" and _SAFE_DATA_URL.match(url))
                ):
                    found.append(f"an active URL ({name}={url[:20]!r} on <{tag}>)")
                elif name == "http-equiv":
                    found.append(f"a <{tag} http-equiv> directive")
                elif name == "style" and re.search(r"expression\(|url\(|@import", value or "", re.IGNORECASE):
                    found.append(f"a style attribute that loads or runs something (on <{tag}>)")
                if found:
                    return

        handle_startendtag = handle_starttag

    scanner = Scan(convert_charrefs=True)
    scanner.feed(html)
    scanner.close()
    return found[0] if found else ""
