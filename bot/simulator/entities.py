"""Telegram's HTML parse mode, reimplemented strictly, and entity detection in people's text.

`parse_html` follows tdlib's parser (same tag set, same error wording, offsets in UTF-8 bytes for
errors and UTF-16 code units for entities). In strict mode it also rejects an ``&`` that does not
start a known character reference and a bare ``>``: Telegram lets those through, but a bot that
sends them has forgotten to escape user text, which is exactly what the simulator should catch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Tag -> entity type. `span` is only valid with class="tg-spoiler".
_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\f\v"
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9_]{3,32}")
_NAME_END = re.compile(r"[ \t\r\n\f\v>]")  # what ends a tag's name
_SPECIAL = re.compile(r"[&<>]")  # what the HTML parser stops at; the rest is plain text


class EntityParseError(ValueError):
    """The text is not valid for the parse mode; the message is Telegram's wording."""


def utf16_len(text: str) -> int:
    """Length of `text` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class _ByteOffset:
    """Where a tag begins, in UTF-8 bytes, as Telegram's errors say it: counted only if an
    error is written (every card's tags would otherwise re-encode the text before them)."""

    source: str
    index: int

    def __str__(self) -> str:
        return str(len(self.source[: self.index].encode("utf-8")))


@dataclass
class _OpenTag:
    name: str
    entity_type: str
    offset: int
    byte_offset: _ByteOffset
    attrs: dict[str, str] = field(default_factory=dict)


class _HtmlParser:
    def __init__(self, source: str, *, strict: bool) -> None:
        self.source = source
        self.strict = strict
        self.pos = 0
        self.out: list[str] = []
        self.u16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def at(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else ""

    def name_end(self, index: int) -> int:
        """Where a tag's name that starts at `index` ends: a space, ">" or the end."""
        found = _NAME_END.search(self.source, index)
        return len(self.source) if found is None else found.start()

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.u16 += utf16_len(text)

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char == "&":
                self.parse_reference()
            elif char == "<":
                if self.at(self.pos + 1) == "/":
                    self.parse_end_tag()
                else:
                    self.parse_start_tag()
            elif char == ">" and self.strict:
                raise EntityParseError(
                    f'Unescaped ">" at byte offset {self.byte_offset(self.pos)}; use &gt;'
                )
            else:
                # A run of plain text up to the next character with a meaning, at once.
                special = _SPECIAL.search(self.source, self.pos + 1)
                end = len(self.source) if special is None else special.start()
                self.emit(self.source[self.pos : end])
                self.pos = end
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def decode_reference(self, index: int) -> tuple[str, int] | None:
        """Decode a character reference at `index`; return (text, index after it) or None."""
        end = self.source.find(";", index, index + 12)
        if end == -1:
            return None
        name = self.source[index + 1 : end]
        if name in _NAMED_REFERENCES:
            return _NAMED_REFERENCES[name], end + 1
        match = re.fullmatch(r"#(?:([0-9]{1,7})|[xX]([0-9A-Fa-f]{1,6}))", name)
        if match is None:
            return None
        code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        if code == 0 or code > 0x10FFFF:
            return None
        return chr(code), end + 1

    def parse_reference(self) -> None:
        decoded = self.decode_reference(self.pos)
        if decoded is None:
            if self.strict:
                raise EntityParseError(
                    f'Unescaped "&" at byte offset {self.byte_offset(self.pos)}; use &amp;'
                )
            self.emit("&")
            self.pos += 1
            return
        text, self.pos = decoded
        self.emit(text)

    def parse_start_tag(self) -> None:
        begin = self.pos
        begin_bytes = _ByteOffset(self.source, begin)
        i = self.name_end(begin + 1)
        if not self.at(i):
            raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
        name = self.source[begin + 1 : i].lower()
        if name not in _TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin_bytes}')
        attrs: dict[str, str] = {}
        while self.at(i) != ">":
            while self.at(i) and self.at(i) in _SPACES:
                i += 1
            if not self.at(i):
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {begin_bytes}')
            if self.at(i) == ">":
                break
            attr_begin = i
            while self.at(i).isascii() and (self.at(i).isalnum() or self.at(i) == "-"):
                i += 1
            attr = self.source[attr_begin:i].lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {begin_bytes}'
                )
            while self.at(i) and self.at(i) in _SPACES:
                i += 1
            if self.at(i) != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {begin_bytes}'
                )
            i += 1
            while self.at(i) and self.at(i) in _SPACES:
                i += 1
            if not self.at(i):
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {begin_bytes}')
            value, i = self.attribute_value(i)
            if not self.at(i):
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            attrs[attr] = value
        self.pos = i + 1
        self.open_tag(name, attrs, begin_bytes)

    def attribute_value(self, i: int) -> tuple[str, int]:
        quote = self.at(i)
        if quote not in ("'", '"'):
            token_begin = i
            while self.at(i).isascii() and (self.at(i).isalnum() or self.at(i) in ".-"):
                i += 1
            after = self.at(i)
            if after != ">" and (not after or after not in _SPACES):
                offset = self.byte_offset(token_begin)
                raise EntityParseError(f"Unexpected end of name token at byte offset {offset}")
            return self.source[token_begin:i].lower(), i
        i += 1
        # Up to the closing quote (or the end), references decoded; a reference never spans
        # the quote, since its name is letters and digits.
        end = self.source.find(quote, i)
        stop = len(self.source) if end == -1 else end
        value: list[str] = []
        while (amp := self.source.find("&", i, stop)) != -1:
            value.append(self.source[i:amp])
            decoded = self.decode_reference(amp)
            if decoded is None:
                value.append("&")
                i = amp + 1
            else:
                value.append(decoded[0])
                i = decoded[1]
        value.append(self.source[i:stop])
        return "".join(value), stop if end == -1 else end + 1

    def open_tag(self, name: str, attrs: dict[str, str], begin_bytes: _ByteOffset) -> None:
        entity_type = _TAGS[name]
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}'
            )
        parent = self.stack[-1] if self.stack else None
        # Inside code/pre Telegram only allows <pre><code class="language-x">.
        if (
            parent is not None
            and parent.entity_type in ("code", "pre")
            and not (parent.name == "pre" and name == "code")
        ):
            raise EntityParseError(
                f'Tag "{name}" can\'t be nested in "{parent.name}" at byte offset {begin_bytes}'
            )
        if entity_type == "blockquote" and any(t.name == "blockquote" for t in self.stack):
            raise EntityParseError(
                f"Blockquote entities can't be nested at byte offset {begin_bytes}"
            )
        if name == "blockquote" and "expandable" in attrs:
            entity_type = "expandable_blockquote"
        self.stack.append(_OpenTag(name, entity_type, self.u16, begin_bytes, attrs))

    def parse_end_tag(self) -> None:
        begin = self.pos
        begin_bytes = _ByteOffset(self.source, begin)
        i = self.name_end(begin + 2)
        name = self.source[begin + 2 : i].lower()
        while self.at(i) and self.at(i) in _SPACES:
            i += 1
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin_bytes}")
        if self.at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {begin_bytes}")
        open_tag = self.stack.pop()
        if open_tag.name != name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin_bytes}, expected "</{open_tag.name}>", '
                f'found "</{name}>"'
            )
        self.pos = i + 1
        self.close_tag(open_tag)

    def close_tag(self, tag: _OpenTag) -> None:
        length = self.u16 - tag.offset
        if length <= 0:
            return
        entity: dict[str, Any] = {"type": tag.entity_type, "offset": tag.offset, "length": length}
        if tag.entity_type == "text_link":
            url = tag.attrs.get("href", "")
            if not url:
                return
            entity["url"] = url
        elif tag.entity_type == "custom_emoji":
            emoji_id = tag.attrs.get("emoji-id", "")
            if not emoji_id.isdigit():
                raise EntityParseError(
                    f'Tag "tg-emoji" must have a numeric "emoji-id" at byte offset '
                    f"{tag.byte_offset}"
                )
            entity["custom_emoji_id"] = emoji_id
        elif tag.entity_type == "code" and self.stack and self.stack[-1].name == "pre":
            language = tag.attrs.get("class", "")
            pre = self.stack[-1]
            if language.startswith("language-") and pre.offset == tag.offset:
                pre.attrs["language"] = language.removeprefix("language-")
                return  # the enclosing <pre> carries the language; no separate code entity
        elif tag.entity_type == "pre" and tag.attrs.get("language"):
            entity["language"] = tag.attrs["language"]
        self.entities.append(entity)


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, entities with UTF-16 offsets).

    Raises EntityParseError with Telegram's description (without the
    "Bad Request: can't parse entities: " prefix).
    """
    return _HtmlParser(source, strict=strict).parse()


def detect_user_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram's clients attach to what a person types: a leading command, mentions."""
    entities: list[dict[str, Any]] = []
    command = _COMMAND_RE.match(text)
    if command is not None:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for match in _MENTION_RE.finditer(text):
        if command is not None and match.start() < command.end():
            continue
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


def leading_command(text: str) -> tuple[str, str | None] | None:
    """The (command, addressee) a text starts with, e.g. ("start", "siaga112_bot"), or None."""
    match = _COMMAND_RE.match(text)
    if match is None:
        return None
    name, _, addressee = match.group()[1:].partition("@")
    return name, addressee or None


def mentions(text: str) -> list[str]:
    """Usernames @mentioned in `text`, without the @."""
    return [m.group()[1:] for m in _MENTION_RE.finditer(text)]
