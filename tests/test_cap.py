"""The CAP 1.2 export: a broadcast becomes an alert a standard CAP reader accepts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.cap import cap_alert, xml_text
from models.broadcast import Broadcast, BroadcastStatus, TargetKind, Urgency

NS = "urn:oasis:names:tc:emergency:cap:1.2"
WIB = ZoneInfo("Asia/Jakarta")
SENDER = "siaga112@palangkaraya.go.id"

# The CAP 1.2 schema's sequences, in order, and which elements it requires.
ALERT_ORDER = [
    "identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction",
    "addresses", "code", "note", "references", "incidents", "info",
]  # fmt: skip
INFO_ORDER = [
    "language", "category", "event", "responseType", "urgency", "severity", "certainty",
    "audience", "eventCode", "effective", "onset", "expires", "senderName", "headline",
    "description", "instruction", "web", "contact", "parameter", "resource", "area",
]  # fmt: skip
AREA_ORDER = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"]
ALERT_REQUIRED = ["identifier", "sender", "sent", "status", "msgType", "scope"]
INFO_REQUIRED = ["event", "urgency", "severity", "certainty"]  # category: one or more
AREA_REQUIRED = ["areaDesc"]

# The CAP 1.2 value lists.
STATUSES = {"Actual", "Exercise", "System", "Test", "Draft"}
MSG_TYPES = {"Alert", "Update", "Cancel", "Ack", "Error"}
SCOPES = {"Public", "Restricted", "Private"}
CATEGORIES = {
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
    "CBRNE", "Other",
}  # fmt: skip
URGENCIES = {"Immediate", "Expected", "Future", "Past", "Unknown"}
SEVERITIES = {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
CERTAINTIES = {"Observed", "Likely", "Possible", "Unlikely", "Unknown"}

CAP_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
CIRCLE = re.compile(r"^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$")
CAP_TOKEN = re.compile(r"^[^\s,<&]+$")
FORBIDDEN_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def make_broadcast(**changes: object) -> Broadcast:
    base = Broadcast(
        id=42,
        sender_id=1001,
        sender_name="Operator Siaga",
        text="Banjir di Jl. Tjilik Riwut km 5. Hindari jalur tersebut.",
        urgency=Urgency.WARNING,
        target_kind=TargetKind.AGENCIES,
        agency_ids=(1, 2),
        latitude=None,
        longitude=None,
        status=BroadcastStatus.SENT,
        created_at=datetime(2026, 3, 1, 1, 58, 30, tzinfo=UTC),
        sent_at=datetime(2026, 3, 1, 2, 0, 5, 123456, tzinfo=UTC),
        cancelled_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def export(broadcast: Broadcast, **options: object) -> ET.Element:
    kwargs: dict[str, object] = {"sender": SENDER, "agency_names": ["BPBD", "Damkar"], "zone": WIB}
    kwargs.update(options)
    document = cap_alert(broadcast, **kwargs)  # type: ignore[arg-type]
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(document)


def local(element: ET.Element) -> str:
    assert element.tag.startswith(f"{{{NS}}}"), element.tag
    return element.tag.removeprefix(f"{{{NS}}}")


def one(parent: ET.Element, name: str) -> str:
    found = parent.findall(f"{{{NS}}}{name}")
    assert len(found) == 1, name
    return found[0].text or ""


def assert_schema_sequence(parent: ET.Element, order: list[str], required: list[str]) -> None:
    names = [local(child) for child in parent]
    assert set(names) <= set(order), names
    positions = [order.index(name) for name in names]
    assert positions == sorted(positions), f"out of schema order: {names}"
    for name in required:
        assert names.count(name) == 1, f"{name} should appear once in {names}"


def assert_valid_cap(alert: ET.Element) -> None:
    """Structure and value lists of CAP 1.2, as far as this export uses them."""
    assert alert.tag == f"{{{NS}}}alert"
    assert_schema_sequence(alert, ALERT_ORDER, ALERT_REQUIRED)
    assert CAP_TOKEN.match(one(alert, "identifier"))
    assert CAP_TOKEN.match(one(alert, "sender"))
    assert CAP_DATE_TIME.match(one(alert, "sent"))
    assert one(alert, "status") in STATUSES
    assert one(alert, "msgType") in MSG_TYPES
    assert one(alert, "scope") in SCOPES
    infos = alert.findall(f"{{{NS}}}info")
    assert len(infos) == 1
    info = infos[0]
    assert_schema_sequence(info, INFO_ORDER, INFO_REQUIRED)
    categories = [c.text for c in info.findall(f"{{{NS}}}category")]
    assert categories
    assert set(categories) <= CATEGORIES
    assert one(info, "language") == "id-ID"
    assert one(info, "urgency") in URGENCIES
    assert one(info, "severity") in SEVERITIES
    assert one(info, "certainty") in CERTAINTIES
    assert len(one(info, "headline")) <= 160
    areas = info.findall(f"{{{NS}}}area")
    assert len(areas) == 1
    assert_schema_sequence(areas[0], AREA_ORDER, AREA_REQUIRED)
    assert one(areas[0], "areaDesc")


def test_a_sent_warning_exports_as_a_valid_public_alert() -> None:
    alert = export(make_broadcast())
    assert_valid_cap(alert)
    assert one(alert, "identifier") == "siaga112-palangkaraya-broadcast-42"
    assert one(alert, "sender") == SENDER
    assert one(alert, "sent") == "2026-03-01T09:00:05+07:00"  # WIB, whole seconds
    assert one(alert, "status") == "Actual"
    assert one(alert, "msgType") == "Alert"
    assert one(alert, "scope") == "Public"
    assert alert.find(f"{{{NS}}}references") is None
    info = alert.find(f"{{{NS}}}info")
    assert info is not None
    assert one(info, "event") == "Banjir di Jl. Tjilik Riwut km 5"
    assert one(info, "senderName") == "Siaga 112 Kota Palangka Raya"
    assert one(info, "headline").startswith("Peringatan dini: Banjir di Jl. Tjilik Riwut")
    assert one(info, "description") == make_broadcast().text
    assert one(info, "contact") == "112"
    assert info.find(f"{{{NS}}}instruction") is None
    assert [c.text for c in info.findall(f"{{{NS}}}category")] == ["Safety"]
    assert one(info, f"area/{{{NS}}}areaDesc") == "BPBD, Damkar"
    assert info.find(f"{{{NS}}}area/{{{NS}}}circle") is None


def test_the_identifier_is_stable_across_exports() -> None:
    first = export(make_broadcast())
    again = export(make_broadcast(text="Teks lain."))
    other = export(make_broadcast(id=43))
    assert one(first, "identifier") == one(again, "identifier")
    assert one(first, "identifier") != one(other, "identifier")


@pytest.mark.parametrize(
    ("urgency", "expected", "instruction"),
    [
        (Urgency.INFO, ("Future", "Minor", "Possible"), False),
        (Urgency.WARNING, ("Expected", "Moderate", "Likely"), False),
        (Urgency.EMERGENCY, ("Immediate", "Severe", "Observed"), True),
    ],
)
def test_every_urgency_maps_as_documented(
    urgency: Urgency, expected: tuple[str, str, str], instruction: bool
) -> None:
    alert = export(make_broadcast(urgency=urgency))
    assert_valid_cap(alert)
    info = alert.find(f"{{{NS}}}info")
    assert info is not None
    assert (one(info, "urgency"), one(info, "severity"), one(info, "certainty")) == expected
    assert (info.find(f"{{{NS}}}instruction") is not None) is instruction


def test_a_cancelled_broadcast_is_a_cancel_that_references_the_original() -> None:
    cancelled = make_broadcast(
        status=BroadcastStatus.CANCELLED, cancelled_at=datetime(2026, 3, 1, 3, 30, tzinfo=UTC)
    )
    alert = export(cancelled)
    assert_valid_cap(alert)
    assert one(alert, "msgType") == "Cancel"
    assert one(alert, "status") == "Actual"
    assert one(alert, "sent") == "2026-03-01T10:30:00+07:00"
    original = export(cancelled, msg_type="Alert")
    assert one(alert, "identifier") != one(original, "identifier")
    assert one(alert, "references") == ",".join(
        one(original, name) for name in ("sender", "identifier", "sent")
    )


def test_an_update_needs_references_and_gets_its_own_identifier() -> None:
    with pytest.raises(ValueError, match="reference"):
        export(make_broadcast(), msg_type="Update")
    ref = f"{SENDER},siaga112-palangkaraya-broadcast-42,2026-03-01T09:00:05+07:00"
    alert = export(make_broadcast(), msg_type="Update", references=ref)
    assert_valid_cap(alert)
    assert one(alert, "msgType") == "Update"
    assert one(alert, "references") == ref
    assert one(alert, "identifier") == "siaga112-palangkaraya-broadcast-42-update"


@pytest.mark.parametrize("references", ["", "just-one-part", "a,b", "a,b<,c", "a b,c,d"])
def test_malformed_references_are_refused(references: str) -> None:
    with pytest.raises(ValueError, match="references"):
        export(make_broadcast(), msg_type="Update", references=references)


def test_a_draft_is_marked_draft_and_dated_when_created() -> None:
    alert = export(make_broadcast(status=BroadcastStatus.DRAFT, sent_at=None))
    assert_valid_cap(alert)
    assert one(alert, "status") == "Draft"
    assert one(alert, "sent") == "2026-03-01T08:58:30+07:00"


def test_utc_is_written_minus_zero_as_cap_requires() -> None:
    alert = export(make_broadcast(), zone=ZoneInfo("UTC"))
    assert one(alert, "sent") == "2026-03-01T02:00:05-00:00"


def test_a_location_gives_a_wgs84_circle() -> None:
    alert = export(make_broadcast(latitude=-2.2096, longitude=113.9139))
    assert_valid_cap(alert)
    circle = one(alert, f"info/{{{NS}}}area/{{{NS}}}circle")
    assert circle == "-2.2096,113.9139 5.0"
    match = CIRCLE.match(circle)
    assert match is not None
    latitude, longitude, radius = (float(part) for part in match.groups())
    assert -90 <= latitude <= 90
    assert -180 <= longitude <= 180
    assert radius > 0


@pytest.mark.parametrize(("latitude", "longitude"), [(91.0, 0.0), (0.0, 181.0), (float("nan"), 0)])
def test_a_location_off_the_globe_is_refused(latitude: float, longitude: float) -> None:
    with pytest.raises(ValueError, match="location"):
        export(make_broadcast(latitude=latitude, longitude=longitude))


def test_without_target_agencies_the_area_is_the_city() -> None:
    alert = export(make_broadcast(target_kind=TargetKind.EVERYONE), agency_names=[])
    assert one(alert, f"info/{{{NS}}}area/{{{NS}}}areaDesc") == (
        "Kota Palangka Raya, Kalimantan Tengah"
    )


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("Karhutla di Kalampangan.", ["Safety", "Fire"]),
        ("Kabut ASAP tebal pagi ini.", ["Safety", "Fire"]),
        ("Ada api di pasar.", ["Safety", "Fire"]),
        ("Banjir di Jekan Raya. Aplikasi tetap jalan.", ["Safety"]),  # "api" only inside a word
    ],
)
def test_fire_words_add_the_fire_category(text: str, categories: list[str]) -> None:
    info = export(make_broadcast(text=text)).find(f"{{{NS}}}info")
    assert info is not None
    assert [c.text for c in info.findall(f"{{{NS}}}category")] == categories


def test_long_text_keeps_event_and_headline_short_and_description_whole() -> None:
    text = "Peringatan " + "hujan lebat dan angin kencang " * 40
    alert = export(make_broadcast(text=text))
    assert_valid_cap(alert)
    info = alert.find(f"{{{NS}}}info")
    assert info is not None
    assert len(one(info, "event")) <= 60
    assert one(info, "event").endswith("…")
    assert len(one(info, "headline")) <= 160
    assert one(info, "description") == text


def test_an_empty_text_still_names_the_event() -> None:
    info = export(make_broadcast(text="", urgency=Urgency.EMERGENCY)).find(f"{{{NS}}}info")
    assert info is not None
    assert one(info, "event") == "Keadaan darurat"
    assert one(info, "headline") == "Keadaan darurat"


def test_hostile_text_round_trips_safely() -> None:
    text = "<script>alert(1)</script> & Tom &amp; ]]> 🚨🔥 مرحبا עברית \u202e\x00\x07\x1b\ufffe ok"
    alert = export(make_broadcast(text=text), agency_names=["<BPBD & Damkar>\x01"])
    assert_valid_cap(alert)
    assert one(alert, f"info/{{{NS}}}description") == (
        "<script>alert(1)</script> & Tom &amp; ]]> 🚨🔥 مرحبا עברית \u202e ok"
    )
    assert one(alert, f"info/{{{NS}}}area/{{{NS}}}areaDesc") == "<BPBD & Damkar>"


def test_line_breaks_survive_as_newlines() -> None:
    alert = export(make_broadcast(text="Baris satu.\r\nBaris dua.\rBaris tiga."))
    assert one(alert, f"info/{{{NS}}}description") == "Baris satu.\nBaris dua.\nBaris tiga."


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.sampled_from(list(Urgency)))
def test_any_text_gives_valid_cap(text: str, urgency: Urgency) -> None:
    alert = export(make_broadcast(text=text, urgency=urgency))
    assert_valid_cap(alert)
    description = alert.find(f"{{{NS}}}info/{{{NS}}}description")
    expected = xml_text(text)
    assert FORBIDDEN_IN_XML.search(expected) is None
    assert (description.text if description is not None else "") == expected


@pytest.mark.parametrize("sender", ["siaga 112@palangkaraya", "a,b", "<x>", "a&b", ""])
def test_a_sender_cap_does_not_allow_is_refused(sender: str) -> None:
    with pytest.raises(ValueError, match="sender"):
        export(make_broadcast(), sender=sender)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        export(make_broadcast(sent_at=datetime(2026, 3, 1, 9, 0)))
