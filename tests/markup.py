"""Malformed HTML, found the way a browser's parser would trip on it.

The standard library's ``html.parser`` reads each page; every start tag is then read again
by the rules of the HTML tokenizer for attributes (WHATWG HTML, 13.2.5.32-39), because
``html.parser`` is lenient exactly where templates go wrong: a browser reads
``value=""requiredautocomplete="username"`` as ``value`` and one attribute no element has,
``requiredautocomplete`` (after the parse error "missing-whitespace-between-attributes"), so
the field is neither required nor autocompleted. Also reported: duplicate attributes (a
browser keeps the first), attribute names the element does not have, and unclosed or stray
end tags; and two buttons of one page with the same name that post to different places (a
screen reader's list of buttons gives "Remove", "Remove": name what each acts on, WCAG 2.4.6).
"""

from __future__ import annotations

from html.parser import HTMLParser


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


VOID = _words("area base br col embed hr img input link meta source track wbr")
GLOBAL = _words(
    """accesskey autocapitalize autofocus class contenteditable dir draggable enterkeyhint
    hidden id inert inputmode is itemid itemprop itemref itemscope itemtype lang nonce
    popover role slot spellcheck style tabindex title translate"""
)
BY_ELEMENT = {
    "a": "href target download ping rel hreflang type referrerpolicy",
    "area": "alt coords shape href target download ping rel referrerpolicy",
    "audio": "src crossorigin preload autoplay loop muted controls",
    "base": "href target",
    "blockquote": "cite",
    "canvas": "width height",
    "data": "value",
    "del": "cite datetime",
    "dialog": "open",
    "embed": "src type width height",
    "ins": "cite datetime",
    "map": "name",
    "object": "data type name form width height",
    "q": "cite",
    "script": "src type nomodule async defer crossorigin integrity referrerpolicy blocking "
    "fetchpriority",
    "slot": "name",
    "source": "type media src srcset sizes width height",
    "style": "media blocking",
    "template": "shadowrootmode shadowrootdelegatesfocus shadowrootclonable",
    "track": "default kind label src srclang",
    "video": "src crossorigin poster preload autoplay playsinline loop muted controls width height",
    "button": "disabled form formaction formenctype formmethod formnovalidate formtarget "
    "name popovertarget popovertargetaction type value",
    "col": "span",
    "colgroup": "span",
    "details": "open name",
    "fieldset": "disabled form name",
    "form": "accept-charset action autocomplete enctype method name novalidate rel target",
    "html": "manifest xmlns",
    "iframe": "src srcdoc name sandbox allow allowfullscreen width height referrerpolicy loading",
    "img": "alt src srcset sizes crossorigin usemap ismap width height referrerpolicy "
    "decoding loading fetchpriority",
    "input": "accept alt autocomplete checked dirname disabled form formaction formenctype "
    "formmethod formnovalidate formtarget height list max maxlength min minlength multiple "
    "name pattern placeholder popovertarget popovertargetaction readonly required size src "
    "step type value width",
    "label": "for",
    "li": "value",
    "link": "href crossorigin rel as media hreflang type sizes imagesrcset imagesizes "
    "referrerpolicy integrity blocking color disabled fetchpriority",
    "meta": "name http-equiv content charset media",
    "meter": "value min max low high optimum",
    "ol": "reversed start type",
    "optgroup": "disabled label",
    "option": "disabled label selected value",
    "output": "for form name",
    "progress": "value max",
    "select": "autocomplete disabled form multiple name required size",
    "td": "colspan rowspan headers",
    "textarea": "autocomplete cols dirname disabled form maxlength minlength name "
    "placeholder readonly required rows wrap",
    "th": "colspan rowspan headers scope abbr",
    "time": "datetime",
}
KNOWN = {tag: GLOBAL | _words(names) for tag, names in BY_ELEMENT.items()}

_SPACE = " \t\n\r\f"
_NAME_END = _SPACE + "/>="
_UNQUOTED_BAD = "\"'<=`"


def attribute_errors(start_tag: str) -> list[str]:
    """Parse errors in the attributes of one start tag as written (``<input ...>``)."""
    errors = []
    i = 1
    while i < len(start_tag) and start_tag[i] not in _SPACE + "/>":
        i += 1  # the tag name
    names: list[str] = []
    after_value = False
    while i < len(start_tag):
        spaced = start_tag[i] in _SPACE
        while i < len(start_tag) and start_tag[i] in _SPACE:
            i += 1
        if i >= len(start_tag) or start_tag[i] == ">":
            break
        if start_tag[i] == "/":
            i += 1
            continue
        if after_value and not spaced:
            errors.append(f"missing whitespace between attributes at {start_tag[i : i + 20]!r}")
        begin = i
        while i < len(start_tag) and (start_tag[i] not in _NAME_END or i == begin):
            i += 1
        name = start_tag[begin:i].lower()
        if any(c in name for c in "\"'<"):
            errors.append(f"unexpected character in attribute name {name!r}")
        if name in names:
            errors.append(f"duplicate attribute {name!r}")
        names.append(name)
        after_value = False
        j = i
        while j < len(start_tag) and start_tag[j] in _SPACE:
            j += 1
        if j < len(start_tag) and start_tag[j] == "=":
            i = j + 1
            while i < len(start_tag) and start_tag[i] in _SPACE:
                i += 1
            if i < len(start_tag) and start_tag[i] in "\"'":
                end = start_tag.find(start_tag[i], i + 1)
                if end < 0:
                    errors.append(f"unterminated value of {name!r}")
                    break
                i = end + 1
            else:
                begin = i
                while i < len(start_tag) and start_tag[i] not in _SPACE + ">":
                    i += 1
                if any(c in _UNQUOTED_BAD for c in start_tag[begin:i]):
                    errors.append(f"unexpected character in the unquoted value of {name!r}")
            after_value = True
    return errors


class Markup(HTMLParser):
    """Collects the malformations of one page (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.open: list[str] = []
        self._svg = 0  # inside <svg>, attributes are SVG's, not HTML's
        self._action = ""  # the form being read
        self._button: list[str] | None = None  # the text of the button being read
        self.buttons: dict[str, set[str]] = {}  # name: the forms' actions it sends to

    def _where(self) -> str:
        line, column = self.getpos()
        return f"line {line}, column {column + 1}"

    def _start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        for error in attribute_errors(raw):
            self.problems.append(f"{self._where()}: {error} in {raw!r}")
        if tag == "svg":
            self._svg += 1
        if self._svg or "-" in tag:
            return  # SVG's attributes, or a custom element's, are not HTML's
        known = KNOWN.get(tag, GLOBAL)  # elements without a table take the global ones only
        for name, _value in attrs:
            if name not in known and not name.startswith(("aria-", "data-")):
                self.problems.append(f"{self._where()}: <{tag}> has no attribute {name!r}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs)
        if tag == "form":
            self._action = dict(attrs).get("action") or ""
        elif tag == "button":
            self._button = []
        if tag not in VOID:
            self.open.append(tag)

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs)
        if tag == "svg":
            self._svg -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            name = " ".join("".join(self._button).split())
            self.buttons.setdefault(name, set()).add(self._action)
            self._button = None
        if tag in VOID:
            self.problems.append(f"{self._where()}: </{tag}> closes a void element")
            return
        if tag not in self.open:
            self.problems.append(f"{self._where()}: </{tag}> closes nothing open")
            return
        while self.open:
            top = self.open.pop()
            if top == "svg":
                self._svg -= 1
            if top == tag:
                break
            self.problems.append(f"{self._where()}: <{top}> is not closed before </{tag}>")

    def close(self) -> None:
        super().close()
        for tag in self.open:
            self.problems.append(f"end of page: <{tag}> is never closed")
        self.open.clear()
        for name, actions in sorted(self.buttons.items()):
            if len(actions) > 1:
                self.problems.append(
                    f"{len(actions)} buttons named {name!r} post to {sorted(actions)}"
                )


def problems_in(html: str) -> list[str]:
    page = Markup()
    page.feed(html)
    page.close()
    return page.problems
