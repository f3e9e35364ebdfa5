"""Export a broadcast as an OASIS Common Alerting Protocol 1.2 ``alert`` document.

Pure: a ``Broadcast`` in, UTF-8 XML bytes out, no I/O. Elements follow the order of the CAP 1.2
schema (namespace ``urn:oasis:names:tc:emergency:cap:1.2``).

How a broadcast becomes CAP
---------------------------

============  ===========  ==========  =========  ==========================================
``Urgency``   urgency      severity    certainty  also
============  ===========  ==========  =========  ==========================================
info          Future       Minor       Possible
peringatan    Expected     Moderate    Likely
darurat       Immediate    Severe      Observed   ``instruction``: follow officers, call 112
============  ===========  ==========  =========  ==========================================

- ``identifier``: ``siaga112-palangkaraya-broadcast-<id>`` for the alert itself; a Cancel or an
  Update is a message of its own, so it gets ``-cancel`` / ``-update`` appended.
- ``sent``: the broadcast's sent time (created time while it was never sent), in the given zone,
  as ``YYYY-MM-DDThh:mm:ss±hh:mm`` (no fractions, never ``Z``; UTC is ``-00:00`` as CAP asks).
  A Cancel is sent at the cancellation time.
- ``status``: ``Actual``, except ``Draft`` for a broadcast that never went out (a draft, or one
  cancelled before sending) — a feed reader must not act on it.
- ``msgType``: ``Cancel`` for a cancelled broadcast, otherwise ``Alert``; a caller may force
  ``Alert`` (to export the original of a cancelled broadcast), ``Update`` or ``Cancel``. Update and
  Cancel carry ``references`` (``sender,identifier,sent`` of the original); a Cancel works them
  out itself, an Update needs them passed in.
- ``scope``: ``Public``; ``info/language``: ``id-ID``; ``senderName``: Siaga 112 Kota Palangka
  Raya; ``contact``: 112.
- ``category``: always ``Safety``; also ``Fire`` when the text has one of the words kebakaran,
  karhutla, api, asap (whole words, any case) — a plain keyword check, not classification.
- ``event``: the first sentence of the text (up to ``.``, ``!`` or ``?`` before a space, or a line
  break; the full stop of a known abbreviation such as "Jl." or "Kec." or of an initial does not
  count), whitespace collapsed, cut to 60 characters; the urgency's name
  ("Peringatan dini" …) when the text has none.
- ``headline``: "<urgency name>: <text>", whitespace collapsed, cut to 160 characters.
- ``description``: the full text.
- ``area``: ``areaDesc`` is the target agencies' names joined by ", " (or ``area_description``
  when there are none); a location adds a ``circle`` ``"lat,lon radius"`` (WGS 84, radius in km).

Text values lose the characters XML 1.0 cannot carry (C0 controls other than tab and newline,
lone surrogates, U+FFFE/U+FFFF) and line breaks become ``\\n``, so what a reader parses equals
what we wrote; ElementTree escapes ``<``, ``&`` and ``>``.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Final, Literal, NamedTuple
from zoneinfo import ZoneInfo

from models.broadcast import Broadcast, BroadcastStatus, Urgency

CAP_NAMESPACE: Final = "urn:oasis:names:tc:emergency:cap:1.2"
IDENTIFIER_PREFIX: Final = "siaga112-palangkaraya-broadcast-"
SENDER_NAME: Final = "Siaga 112 Kota Palangka Raya"
CONTACT: Final = "112"
LANGUAGE: Final = "id-ID"
DEFAULT_AREA: Final = "Kota Palangka Raya, Kalimantan Tengah"
CIRCLE_RADIUS_KM: Final = 5.0
EVENT_MAX: Final = 60
HEADLINE_MAX: Final = 160
EMERGENCY_INSTRUCTION: Final = "Ikuti arahan petugas. Untuk keadaan darurat telepon 112."

MsgType = Literal["Alert", "Update", "Cancel"]


class CapLevels(NamedTuple):
    """The CAP urgency, severity and certainty for one ``Urgency``."""

    urgency: str
    severity: str
    certainty: str


CAP_LEVELS: Final[dict[Urgency, CapLevels]] = {
    Urgency.INFO: CapLevels("Future", "Minor", "Possible"),
    Urgency.WARNING: CapLevels("Expected", "Moderate", "Likely"),
    Urgency.EMERGENCY: CapLevels("Immediate", "Severe", "Observed"),
}

# Used for the headline, and as the event when the text gives no sentence to use.
URGENCY_NAMES: Final[dict[Urgency, str]] = {
    Urgency.INFO: "Informasi",
    Urgency.WARNING: "Peringatan dini",
    Urgency.EMERGENCY: "Keadaan darurat",
}

# Abbreviations common in local addresses and names; their full stop does not end a sentence.
ABBREVIATIONS: Final = frozenset(
    {"jl", "jln", "gg", "no", "rt", "rw", "kel", "kec", "kab", "prov", "km", "komp", "perum"}
    | {"dr", "drs", "ir", "hj", "st", "telp", "tlp", "pt", "cv", "dll", "dsb", "spt", "a.n"}
)

FIRE_WORDS: Final = re.compile(r"\b(?:kebakaran|karhutla|api|asap)\b", re.IGNORECASE)

# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
_WHITESPACE = re.compile(r"\s+")
# CAP: identifiers and senders carry no spaces, commas or the restricted characters < and &.
_CAP_TOKEN = re.compile(r"^[^\s,<&]+$")
_REFERENCE = re.compile(r"^[^\s,<&]+,[^\s,<&]+,[^\s,<&]+$")


def cap_alert(
    broadcast: Broadcast,
    *,
    sender: str,
    agency_names: list[str],
    zone: ZoneInfo,
    msg_type: MsgType | None = None,
    references: str | None = None,
    area_description: str = DEFAULT_AREA,
) -> bytes:
    """The broadcast as a CAP 1.2 ``alert``: UTF-8 XML with a declaration.

    ``msg_type`` None means Cancel for a cancelled broadcast and Alert otherwise. Raises
    ``ValueError`` for a sender or references CAP does not allow, an Update without references,
    a naive time or a location off the globe.
    """
    if not _CAP_TOKEN.match(sender):
        raise ValueError(f"CAP sender must have no spaces, commas, '<' or '&': {sender!r}")
    cancelled = broadcast.status is BroadcastStatus.CANCELLED or broadcast.cancelled_at is not None
    kind: MsgType = msg_type or ("Cancel" if cancelled else "Alert")
    if kind not in ("Alert", "Update", "Cancel"):
        raise ValueError(f"unsupported CAP msgType {kind!r}")

    original_sent = broadcast.sent_at or broadcast.created_at
    if kind == "Cancel":
        sent = broadcast.cancelled_at or original_sent
        if references is None:
            references = ",".join(
                (sender, alert_identifier(broadcast.id), cap_time(original_sent, zone))
            )
    else:
        sent = original_sent
    if kind != "Alert" and references is None:
        raise ValueError(f"a CAP {kind} must reference the message it replaces")
    if references is not None and not all(
        _REFERENCE.match(ref) for ref in references.split() or [""]
    ):
        raise ValueError(f"CAP references must be 'sender,identifier,sent' groups: {references!r}")

    identifier = alert_identifier(broadcast.id)
    if kind != "Alert":
        identifier += f"-{kind.lower()}"
    never_sent = broadcast.sent_at is None and broadcast.status in (
        BroadcastStatus.DRAFT,
        BroadcastStatus.CANCELLED,
    )

    alert = ET.Element(_tag("alert"))
    _child(alert, "identifier", identifier)
    _child(alert, "sender", sender)
    _child(alert, "sent", cap_time(sent, zone))
    _child(alert, "status", "Draft" if never_sent else "Actual")
    _child(alert, "msgType", kind)
    _child(alert, "scope", "Public")
    if references is not None:
        _child(alert, "references", " ".join(references.split()))
    _append_info(alert, broadcast, agency_names, area_description)
    body = ET.tostring(alert, encoding="unicode", default_namespace=CAP_NAMESPACE)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def alert_identifier(broadcast_id: int) -> str:
    """The CAP identifier of a broadcast's alert: stable, so re-exports refer to one message."""
    return f"{IDENTIFIER_PREFIX}{broadcast_id}"


def cap_time(moment: datetime, zone: ZoneInfo) -> str:
    """A CAP date-time: ``2026-01-01T07:00:00+07:00``; whole seconds, UTC written ``-00:00``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime; CAP needs a time with its zone")
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    assert offset is not None  # an aware datetime always has one
    minutes, seconds = divmod(int(offset.total_seconds()), 60)
    if seconds:
        raise ValueError(f"CAP offsets are whole minutes; {zone.key} has {offset} then")
    sign = "-" if minutes <= 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{local:%Y-%m-%dT%H:%M:%S}{sign}{hours:02d}:{minutes:02d}"


def xml_text(text: str) -> str:
    """``text`` as XML 1.0 can carry it: no forbidden characters, line breaks as ``\\n``."""
    return _NOT_XML_CHAR.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def categories(text: str) -> list[str]:
    """``Safety``, plus ``Fire`` when the text speaks of fire or haze."""
    return ["Safety", "Fire"] if FIRE_WORDS.search(text) else ["Safety"]


def event_name(text: str, urgency: Urgency) -> str:
    """The text's first sentence, cut to 60 characters; the urgency's name if there is none."""
    text = xml_text(text).strip()
    end = len(text)
    for stop in _SENTENCE_END.finditer(text):
        words = text[: stop.start()].rsplit(None, 1)
        if stop.group() == "." and words and _is_abbreviation(words[-1]):
            continue  # "Jl. Tjilik Riwut", "Kec. Jekan Raya": not the end of the sentence
        end = stop.start()
        break
    sentence = _collapse(text[:end])
    return _shorten(sentence, EVENT_MAX) if sentence else URGENCY_NAMES[urgency]


def _is_abbreviation(word: str) -> bool:
    word = word.lower()
    return (len(word) == 1 and word.isalpha()) or word in ABBREVIATIONS


def _append_info(
    alert: ET.Element, broadcast: Broadcast, agency_names: list[str], area_description: str
) -> None:
    text = xml_text(broadcast.text)
    levels = CAP_LEVELS[broadcast.urgency]
    name = URGENCY_NAMES[broadcast.urgency]
    info = ET.SubElement(alert, _tag("info"))
    _child(info, "language", LANGUAGE)
    for category in categories(text):
        _child(info, "category", category)
    _child(info, "event", event_name(text, broadcast.urgency))
    _child(info, "urgency", levels.urgency)
    _child(info, "severity", levels.severity)
    _child(info, "certainty", levels.certainty)
    _child(info, "senderName", SENDER_NAME)
    summary = _collapse(text)
    _child(info, "headline", _shorten(f"{name}: {summary}" if summary else name, HEADLINE_MAX))
    if text:
        _child(info, "description", text)
    if broadcast.urgency is Urgency.EMERGENCY:
        _child(info, "instruction", EMERGENCY_INSTRUCTION)
    _child(info, "contact", CONTACT)

    area = ET.SubElement(info, _tag("area"))
    names = [n for n in dict.fromkeys(_collapse(xml_text(name)) for name in agency_names) if n]
    described = ", ".join(names) or _collapse(xml_text(area_description)) or DEFAULT_AREA
    _child(area, "areaDesc", described)
    if broadcast.latitude is not None and broadcast.longitude is not None:
        _child(area, "circle", _circle(broadcast.latitude, broadcast.longitude))


def _circle(latitude: float, longitude: float) -> str:
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise ValueError("location is not a number")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(f"location off the globe: {latitude}, {longitude}")
    return f"{_degrees(latitude)},{_degrees(longitude)} {CIRCLE_RADIUS_KM:.1f}"


def _degrees(value: float) -> str:
    # Six decimals is about 10 cm: more than a phone's fix, and never scientific notation.
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:  # prefer a word boundary unless it throws away half the text
        cut = cut[:space]
    return cut.rstrip() + "…"


def _tag(name: str) -> str:
    return f"{{{CAP_NAMESPACE}}}{name}"


def _child(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _tag(name))
    element.text = text
    return element
