"""What reporters and dispatchers type, checked: examples in Indonesian and English, and
properties that must hold for any text (nothing a person types may crash the bot)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.incident_types import IncidentType
from models.report import (
    DEFAULT_REPORT_LIMIT,
    PALANGKA_RAYA,
    REPORT_FIELDS,
    CallLine,
    LocationCheck,
    Problem,
    ReportField,
    ReportLimit,
    ServiceArea,
    check_location,
    clean_text,
    distance_km,
    next_allowed,
    normalize_phone,
    parse_call_line,
    parse_hurt_count,
    validate_address,
    validate_description,
    visible_count,
)

FAST = settings(max_examples=150, deadline=None)
# Any text at all, lone surrogates and control characters included.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)
E164_ID = re.compile(r"^\+62\d{8,13}$")


# --- clean_text ---


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  depan Pasar Besar  ", "depan Pasar Besar"),
        ("Jl.   Tjilik    Riwut\tkm 5", "Jl. Tjilik Riwut km 5"),
        ("api\x00 besar\x07", "api besar"),
        ("baris satu\r\nbaris dua\rbaris tiga", "baris satu\nbaris dua\nbaris tiga"),
        ("a\n\n\n\n\n\nb", "a\n\n\nb"),
        ("a\n \n\t\n  \n\nb", "a\n\n\nb"),
        ("a\n\n\nb", "a\n\n\nb"),
        ("line  \n  next", "line\nnext"),
        ("🔥 rumah terbakar 🚒", "🔥 rumah terbakar 🚒"),
        ("👨\u200d👩\u200d👧 keluarga", "👨\u200d👩\u200d👧 keluarga"),
        ("\u200fשריפה ברחוב", "\u200fשריפה ברחוב"),
        ("حريق في السوق", "حريق في السوق"),
        ("<b>api</b> & asap", "<b>api</b> & asap"),
        ("a\u00a0\u00a0b\u3000c", "a b c"),
        ("a\u2028b", "a\nb"),
        ("\ud800x", "x"),
        ("", ""),
        (" \n\t\n ", ""),
        # Zero-width characters go at the ends of each line, never inside one.
        ("\u200b\ufeff depan Pasar Besar\u2060 \u200b", "depan Pasar Besar"),
        ("a\n\u200b\n\u200c\n\u200d\n\u2060\nb", "a\n\n\nb"),
        ("\u200b" * 12, ""),
        ("rumah\u200bkayu", "rumah\u200bkayu"),
        ("kafe\u0301 terbakar", "kafe\u0301 terbakar"),
        ("\u200fשריפה ברחוב\u200f", "\u200fשריפה ברחוב\u200f"),
    ],
)
def test_clean_text(raw: str, cleaned: str) -> None:
    assert clean_text(raw) == cleaned


@FAST
@given(ANY_TEXT)
def test_clean_text_is_idempotent_and_never_raises(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert "\n\n\n\n" not in once
    assert "  " not in once
    assert once == once.strip()


# --- addresses and descriptions ---


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("depan Pasar Besar", "depan Pasar Besar"),
        ("  Jl.  Yos Sudarso no 12 ", "Jl. Yos Sudarso no 12"),
        ("BundaranBesar", "BundaranBesar"),  # one long word: 12 characters or more
        ("near the big roundabout", "near the big roundabout"),
        ("Gg. Mawar 3", "Gg. Mawar 3"),
        ("x" * 300, "x" * 300),
        ("Jl. Rajawali 7", "Jl. Rajawali 7"),  # three words, each with a letter or digit
        ("Jl. Tjilik Riwut Km 7,5", "Jl. Tjilik Riwut Km 7,5"),
        ("Gang Pangéran Antasari", "Gang Pangéran Antasari"),
        ("depan\u00a0Pasar\u3000Besar", "depan Pasar Besar"),
        ("\u200bdepan Pasar Besar\u200b\ufeff", "depan Pasar Besar"),
        ("🚒 depan Pasar Besar", "🚒 depan Pasar Besar"),
    ],
)
def test_valid_addresses(raw: str, address: str) -> None:
    assert validate_address(raw) == address


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("sini", Problem.ADDRESS_TOO_SHORT),
        ("here", Problem.ADDRESS_TOO_SHORT),
        ("di rumah", Problem.ADDRESS_TOO_SHORT),
        ("", Problem.ADDRESS_TOO_SHORT),
        ("   \n ", Problem.ADDRESS_TOO_SHORT),
        (". . . . . . . .", Problem.ADDRESS_TOO_SHORT),
        ("🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥", Problem.ADDRESS_TOO_SHORT),
        ("x" * 301, Problem.ADDRESS_TOO_LONG),
        ("/batal", Problem.ADDRESS_IS_COMMAND),
        ("  /cancel@siaga112_bot", Problem.ADDRESS_IS_COMMAND),
        ("\u200b/batal", Problem.ADDRESS_IS_COMMAND),
        # Nothing a person can read, however many characters (issue 13).
        ("\u200b" * 12, Problem.ADDRESS_TOO_SHORT),
        ("ab" + "\u200b" * 10, Problem.ADDRESS_TOO_SHORT),  # 12 characters, 2 to read
        ("ab" + "." * 10, Problem.ADDRESS_TOO_SHORT),
        ("\u200b \u200b \u200b \u200b", Problem.ADDRESS_TOO_SHORT),
        (" " * 12, Problem.ADDRESS_TOO_SHORT),
        ("............", Problem.ADDRESS_TOO_SHORT),
        ("- - - / . ,", Problem.ADDRESS_TOO_SHORT),
        ("\u200e\u202bab\u202c\u200f", Problem.ADDRESS_TOO_SHORT),
        ("\u0301\u0301\u0301 \u0308\u0308 \u0300", Problem.ADDRESS_TOO_SHORT),
        ("\u00a0" * 12 + "\u3000" * 12, Problem.ADDRESS_TOO_SHORT),
        ("🔥 🚒 🚑 🏠", Problem.ADDRESS_TOO_SHORT),
        ("\u3164 \u3164 \u3164 \u3164", Problem.ADDRESS_TOO_SHORT),  # Hangul fillers
        ("\u200b" * 400, Problem.ADDRESS_TOO_SHORT),  # no address, rather than a long one
        ("Km 7,5", Problem.ADDRESS_TOO_SHORT),  # two words, four letters and digits
    ],
)
def test_refused_addresses(raw: str, problem: Problem) -> None:
    assert validate_address(raw) is problem


@pytest.mark.parametrize(
    ("raw", "result"),
    [
        ("Rumah terbakar, api besar", "Rumah terbakar, api besar"),
        ("Car crash", "Car crash"),  # exactly 8 letters
        ("  asap   tebal  ", "asap tebal"),
        ("Rumah terbakar", "Rumah terbakar"),
        ("Pohon tumbang di depan kafé", "Pohon tumbang di depan kafé"),
        ("Kafe\u0301 terbakar", "Kafe\u0301 terbakar"),  # a decomposed é
        ("Tabrakan di Km 7,5", "Tabrakan di Km 7,5"),
        ("a.b.c.d-e-f-g-h", "a.b.c.d-e-f-g-h"),  # 8 letters among punctuation
        ("\u200bRumah terbakar\u200b", "Rumah terbakar"),
        ("👨\u200d👩\u200d👧 terjebak api", "👨\u200d👩\u200d👧 terjebak api"),
        ("\u200fשריפה ברחוב הראשי", "\u200fשריפה ברחוב הראשי"),
        ("api!", Problem.DESCRIPTION_TOO_SHORT),
        ("help", Problem.DESCRIPTION_TOO_SHORT),
        ("   ", Problem.DESCRIPTION_TOO_SHORT),
        ("tolong!!", Problem.DESCRIPTION_TOO_SHORT),  # 8 characters, 6 of them letters
        # Nothing a person can read, however many characters (issue 13).
        ("\u200b" * 12, Problem.DESCRIPTION_TOO_SHORT),
        ("\u200c\u200d\u2060\ufeff" * 3, Problem.DESCRIPTION_TOO_SHORT),
        (" " * 12, Problem.DESCRIPTION_TOO_SHORT),
        ("............", Problem.DESCRIPTION_TOO_SHORT),
        ("\u200e\u200fab\u200e\u200f", Problem.DESCRIPTION_TOO_SHORT),
        ("\u202a\u202b\u202d\u202e\u2066ab\u2069\u2068\u2067\u202c", Problem.DESCRIPTION_TOO_SHORT),
        ("\u0301" * 12, Problem.DESCRIPTION_TOO_SHORT),
        ("\u00a0" * 12, Problem.DESCRIPTION_TOO_SHORT),
        ("\u3000" * 12, Problem.DESCRIPTION_TOO_SHORT),
        ("🔥🚒🚑🔥🚒🚑🔥🚒🚑🔥🚒🚑", Problem.DESCRIPTION_TOO_SHORT),
        ("👨\u200d👩\u200d👧" * 4, Problem.DESCRIPTION_TOO_SHORT),
        ("\u3164" * 12, Problem.DESCRIPTION_TOO_SHORT),  # Hangul fillers
        ("\u200b" * 3001, Problem.DESCRIPTION_TOO_SHORT),
        ("a" * 3000, "a" * 3000),
        ("a" * 3001, Problem.DESCRIPTION_TOO_LONG),
    ],
)
def test_validate_description(raw: str, result: str | Problem) -> None:
    assert validate_description(raw) == result


# What a person cannot see or read: spaces of every kind, zero-width and direction characters,
# combining marks, punctuation, symbols, emoji, Hangul fillers.
UNSEEN = (
    " \t\n\u00a0\u2007\u202f\u3000"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u0300\u0301\u0308\u20e3"
    ".,-–—…!?()'\"*#:;_~"
    "🔥🚒👍❤️"
    "\u3164\uffa0"
)
SEEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéÉñü0123456789٣"


@FAST
@given(st.text(st.sampled_from(UNSEEN), max_size=400))
def test_text_with_nothing_to_read_is_too_short(text: str) -> None:
    assert validate_description(text) is Problem.DESCRIPTION_TOO_SHORT
    assert validate_address(text) is Problem.ADDRESS_TOO_SHORT


@FAST
@given(
    st.lists(st.sampled_from(SEEN), max_size=16),
    st.lists(st.text(st.sampled_from(UNSEEN), max_size=6), min_size=17, max_size=17),
)
def test_only_letters_and_digits_make_a_description_long_enough(
    seen: list[str], padding: list[str]
) -> None:
    # The same letters and digits with any unseen characters around and between them.
    text = "".join(pad + char for pad, char in zip(padding, [*seen, ""], strict=False))
    assert visible_count(text) == len(seen)
    result = validate_description(text)
    if len(seen) < 8:
        assert result is Problem.DESCRIPTION_TOO_SHORT
    else:
        assert result == clean_text(text)


@FAST
@given(ANY_TEXT)
def test_validators_never_raise(text: str) -> None:
    for result in (validate_address(text), validate_description(text)):
        assert isinstance(result, (str, Problem))
        if not isinstance(result, Problem):
            assert result == clean_text(text)  # the cleaned text is what is kept


# --- where ---


def test_distance_between_palangka_raya_and_jakarta() -> None:
    # About 900 km as the crow flies.
    assert 880 < distance_km(-2.2136, 113.9108, -6.2, 106.8) < 930


def test_distance_of_one_degree_of_latitude() -> None:
    assert distance_km(0, 0, 1, 0) == pytest.approx(111.195, abs=0.01)


def test_distance_between_antipodes_does_not_raise() -> None:
    assert distance_km(10, 20, -10, -160) == pytest.approx(math.pi * 6371.0088)


LATITUDES = st.floats(-90, 90)
LONGITUDES = st.floats(-180, 180)


@FAST
@given(LATITUDES, LONGITUDES, LATITUDES, LONGITUDES)
def test_distance_is_symmetric(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    there = distance_km(lat1, lon1, lat2, lon2)
    back = distance_km(lat2, lon2, lat1, lon1)
    assert there == pytest.approx(back, rel=1e-12, abs=1e-9)
    assert 0 <= there <= math.pi * 6371.0088 + 1e-6


@FAST
@given(LATITUDES, LONGITUDES)
def test_distance_to_itself_is_zero(lat: float, lon: float) -> None:
    assert distance_km(lat, lon, lat, lon) == 0


@pytest.mark.parametrize(
    ("lat", "lon", "check"),
    [
        (-2.2136, 113.9108, LocationCheck.INSIDE),  # the centre
        (-2.21, 113.92, LocationCheck.INSIDE),  # Bundaran Besar
        (-1.88, 113.95, LocationCheck.INSIDE),  # about 37 km north
        (-3.0, 114.4, LocationCheck.FAR),  # about 100 km away
        (-6.2, 106.8, LocationCheck.FAR),  # Jakarta
        (0.0, 0.0, LocationCheck.INVALID),  # null island
        (91.0, 0.0, LocationCheck.INVALID),
        (-90.5, 113.9, LocationCheck.INVALID),
        (-2.2, 180.5, LocationCheck.INVALID),
        (-2.2, -181.0, LocationCheck.INVALID),
        (math.nan, 1.0, LocationCheck.INVALID),
        (1.0, math.nan, LocationCheck.INVALID),
        (math.inf, 113.9, LocationCheck.INVALID),
        (-2.2, -math.inf, LocationCheck.INVALID),
        (0.0, 113.9, LocationCheck.FAR),  # on the equator is real, just far
        (90.0, 180.0, LocationCheck.FAR),  # the edges are valid
    ],
)
def test_check_location(lat: float, lon: float, check: LocationCheck) -> None:
    assert check_location(lat, lon, PALANGKA_RAYA) is check


def test_check_location_defaults_to_palangka_raya_and_honours_other_areas() -> None:
    assert check_location(-2.2136, 113.9108) is LocationCheck.INSIDE
    sampit = ServiceArea(-2.5333, 112.95, 30.0)
    assert check_location(-2.2136, 113.9108, sampit) is LocationCheck.FAR
    assert check_location(-2.54, 112.96, sampit) is LocationCheck.INSIDE


def test_check_location_boundary_is_inside() -> None:
    # A point exactly at the radius counts as inside: only farther is FAR.
    area = ServiceArea(0.0, 10.0, distance_km(0.0, 10.0, 1.0, 10.0))
    assert check_location(1.0, 10.0, area) is LocationCheck.INSIDE


# --- how many hurt ---


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        ("3", 3),
        (" 3 orang ", 3),
        ("3 people", 3),
        ("sekitar 5 orang", 5),
        ("about 12 people", 12),
        ("999", 999),
        ("007", 7),
        ("1", 1),
        ("satu", 1),
        ("seorang", 1),
        ("Dua orang", 2),
        ("tiga", 3),
        ("empat", 4),
        ("lima orang luka", 5),
        ("enam", 6),
        ("tujuh", 7),
        ("delapan", 8),
        ("sembilan", 9),
        ("sepuluh orang", 10),
        ("one", 1),
        ("Two people", 2),
        ("three", 3),
        ("four", 4),
        ("five", 5),
        ("six", 6),
        ("seven", 7),
        ("eight", 8),
        ("nine", 9),
        ("ten people hurt", 10),
        ("3orang", 3),
    ],
)
def test_parse_hurt_count(raw: str, count: int) -> None:
    assert parse_hurt_count(raw) == count


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("0", Problem.HURT_COUNT_OUT_OF_RANGE),
        ("nol", Problem.HURT_COUNT_OUT_OF_RANGE),
        ("zero", Problem.HURT_COUNT_OUT_OF_RANGE),
        ("1000", Problem.HURT_COUNT_OUT_OF_RANGE),
        ("9" * 5000, Problem.HURT_COUNT_OUT_OF_RANGE),  # int() of this many digits would raise
        ("banyak", Problem.HURT_COUNT_UNREADABLE),
        ("many", Problem.HURT_COUNT_UNREADABLE),
        ("", Problem.HURT_COUNT_UNREADABLE),
        ("2 atau 3", Problem.HURT_COUNT_UNREADABLE),
        ("two or three", Problem.HURT_COUNT_UNREADABLE),
        ("-", Problem.HURT_COUNT_UNREADABLE),
    ],
)
def test_refused_hurt_counts(raw: str, problem: Problem) -> None:
    assert parse_hurt_count(raw) is problem


@FAST
@given(ANY_TEXT)
def test_parse_hurt_count_never_raises(text: str) -> None:
    result = parse_hurt_count(text)
    assert isinstance(result, Problem) or 1 <= result <= 999


@FAST
@given(st.integers(1, 999), st.sampled_from(["{}", "{} orang", "{} people", "ada {} korban"]))
def test_any_count_in_range_is_read_back(count: int, template: str) -> None:
    assert parse_hurt_count(template.format(count)) == count


# --- phone ---


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("+62-812-3456-7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),  # a shared Telegram contact
        ("62 812 3456 7890", "+6281234567890"),
        ("62 0812 3456 7890", "+6281234567890"),
        ("081234567890", "+6281234567890"),
        ("0812.3456.789", "+628123456789"),
        ("(0536) 322-1234", "+625363221234"),  # a Palangka Raya landline
        ("0536 3221234", "+625363221234"),
        ("+62 (0)812 3456 7890", "+6281234567890"),
        ("0062 812 3456 7890", "+6281234567890"),
        ("021 1234 567", "+62211234567"),  # a Jakarta landline
        ("+62 8123 4567", "+6281234567"),
        ("08123456789012", "+628123456789012"),  # 13 digits after the country code
    ],
)
def test_normalize_phone(raw: str, phone: str) -> None:
    assert normalize_phone(raw) == phone


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", Problem.PHONE_INVALID),
        ("112", Problem.PHONE_INVALID),
        ("0812", Problem.PHONE_INVALID),
        ("0812 345", Problem.PHONE_INVALID),  # 6 digits after the country code
        ("081234567890123", Problem.PHONE_INVALID),  # 14 digits
        ("81234567890", Problem.PHONE_INVALID),  # no prefix: ambiguous
        ("0812-3456-78ab", Problem.PHONE_INVALID),
        ("nomor saya 0812 3456 7890", Problem.PHONE_INVALID),
        ("+62", Problem.PHONE_INVALID),
        ("+62 0", Problem.PHONE_INVALID),
        ("0+6281234567890", Problem.PHONE_INVALID),
        ("08١٢34567890", Problem.PHONE_INVALID),  # only ASCII digits
        ("+1 555 123 4567", Problem.PHONE_NOT_INDONESIAN),
        ("+60 12 345 6789", Problem.PHONE_NOT_INDONESIAN),  # Malaysia
        ("0060 12 345 6789", Problem.PHONE_NOT_INDONESIAN),
    ],
)
def test_refused_phones(raw: str, problem: Problem) -> None:
    assert normalize_phone(raw) is problem


@FAST
@given(ANY_TEXT)
def test_normalize_phone_output_is_always_e164(text: str) -> None:
    result = normalize_phone(text)
    assert isinstance(result, Problem) or E164_ID.fullmatch(result)


@FAST
@given(
    st.sampled_from(["0", "+62", "62", "0062", "+62 (0)"]),
    st.from_regex(r"[1-9][0-9]{7,12}", fullmatch=True),
    st.sampled_from(["", " ", "-", "."]),
)
def test_normalize_phone_accepts_every_indonesian_spelling(
    prefix: str, subscriber: str, separator: str
) -> None:
    spelled = prefix + separator.join([subscriber[:3], subscriber[3:7], subscriber[7:]])
    result = normalize_phone(spelled)
    assert result == f"+62{subscriber}"
    assert normalize_phone(result) == result  # already normalized numbers stay as they are


# --- a dispatcher's call line ---


def test_call_line_in_indonesian() -> None:
    line = parse_call_line(
        "kebakaran | depan Pasar Besar | rumah dua lantai terbakar | 0812-3456-7890"
    )
    assert line == CallLine(
        IncidentType.FIRE, "depan Pasar Besar", "rumah dua lantai terbakar", "+6281234567890"
    )


def test_call_line_in_english_without_phone() -> None:
    line = parse_call_line("Forest-Fire|Jl. Tjilik Riwut km 12|peat burning near the road")
    assert line == CallLine(
        IncidentType.FOREST_FIRE, "Jl. Tjilik Riwut km 12", "peat burning near the road", None
    )


def test_call_line_with_an_empty_phone_part_has_no_phone() -> None:
    line = parse_call_line("medis | Gg. Mawar no 3 | bapak pingsan di teras |  ")
    assert isinstance(line, CallLine)
    assert line.phone is None


def test_call_line_parts_lose_zero_width_characters_at_their_ends() -> None:
    line = parse_call_line("\u200bkebakaran\u200b | \ufeffdepan Pasar Besar | rumah terbakar\u2060")
    assert line == CallLine(IncidentType.FIRE, "depan Pasar Besar", "rumah terbakar", None)


def test_call_line_parts_are_cleaned() -> None:
    line = parse_call_line("  banjir |  Jl.   Temanggung   Tilung  |  air  setinggi lutut  ")
    assert isinstance(line, CallLine)
    assert (line.address, line.description) == ("Jl. Temanggung Tilung", "air setinggi lutut")


@pytest.mark.parametrize(
    ("raw", "problem", "field"),
    [
        ("", Problem.CALL_MISSING_PARTS, None),
        ("kebakaran", Problem.CALL_MISSING_PARTS, None),
        ("kebakaran | depan Pasar Besar", Problem.CALL_MISSING_PARTS, None),
        ("kebakaran | | rumah terbakar", Problem.CALL_MISSING_PARTS, None),
        (" | depan Pasar Besar | rumah terbakar", Problem.CALL_MISSING_PARTS, None),
        ("a | b | c | d | e | f | g", Problem.CALL_TOO_MANY_PARTS, None),
        ("gempa | depan Pasar Besar | rumah runtuh", Problem.CALL_UNKNOWN_TYPE, ReportField.TYPE),
        ("fire | sini | rumah terbakar", Problem.ADDRESS_TOO_SHORT, ReportField.LOCATION),
        ("fire | /batal | rumah terbakar", Problem.ADDRESS_IS_COMMAND, ReportField.LOCATION),
        (f"fire | {'x' * 301} | rumah terbakar", Problem.ADDRESS_TOO_LONG, ReportField.LOCATION),
        ("fire | depan Pasar Besar | api", Problem.DESCRIPTION_TOO_SHORT, ReportField.DESCRIPTION),
        # A part with nothing to see is missing; one with only punctuation is too short.
        ("fire | \u200b\u200b\u200b | rumah terbakar", Problem.CALL_MISSING_PARTS, None),
        ("fire | depan Pasar Besar | " + "\u200b" * 12, Problem.CALL_MISSING_PARTS, None),
        ("fire | depan Pasar Besar | \u200e\u200f\u00a0", Problem.CALL_MISSING_PARTS, None),
        ("fire | ............ | rumah terbakar", Problem.ADDRESS_TOO_SHORT, ReportField.LOCATION),
        (
            "fire | depan Pasar Besar | ............",
            Problem.DESCRIPTION_TOO_SHORT,
            ReportField.DESCRIPTION,
        ),
        (
            "fire | depan Pasar Besar | 🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥",
            Problem.DESCRIPTION_TOO_SHORT,
            ReportField.DESCRIPTION,
        ),
        (
            f"fire | depan Pasar Besar | {'a' * 4001}",
            Problem.DESCRIPTION_TOO_LONG,
            ReportField.DESCRIPTION,
        ),
        (
            "fire | depan Pasar Besar | rumah terbakar | 112",
            Problem.PHONE_INVALID,
            ReportField.CONTACT,
        ),
        (
            "fire | depan Pasar Besar | rumah terbakar | +1 555 123 4567",
            Problem.PHONE_NOT_INDONESIAN,
            ReportField.CONTACT,
        ),
        # The first failing part wins.
        ("gempa | sini | api | 112", Problem.CALL_UNKNOWN_TYPE, ReportField.TYPE),
        ("fire | sini | api | 112", Problem.ADDRESS_TOO_SHORT, ReportField.LOCATION),
    ],
)
def test_refused_call_lines(raw: str, problem: Problem, field: ReportField | None) -> None:
    result = parse_call_line(raw)
    assert result is problem
    assert result.field is field


@FAST
@given(ANY_TEXT)
def test_parse_call_line_never_raises(text: str) -> None:
    assert isinstance(parse_call_line(text), (CallLine, Problem))


# --- the problems and the fields ---


def test_every_problem_is_a_report_message_key_listed_in_the_module_docstring() -> None:
    import models.report

    doc = models.report.__doc__ or ""
    for problem in Problem:
        assert problem.value == f"report.problem.{problem.name.lower()}"
        assert f"``{problem.value}``" in doc


def test_report_fields_keep_their_order() -> None:
    # The positions travel in "edit field" buttons: changing them breaks old buttons.
    assert [field.value for field in REPORT_FIELDS] == [
        "type",
        "location",
        "description",
        "hurt",
        "contact",
        "caller",  # appended for 112 calls
    ]
    assert [field.position for field in ReportField] == [0, 1, 2, 3, 4, 5]
    assert all(ReportField.at(field.position) is field for field in ReportField)
    assert ReportField.at(6) is None
    assert ReportField.at(-1) is None
    assert ReportField.HURT.label_key == "report.field.hurt"


# --- how often a reporter may report ---

NOW = datetime(2025, 8, 17, 10, 0, tzinfo=UTC)


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_default_limit_is_three_in_ten_minutes() -> None:
    limit = DEFAULT_REPORT_LIMIT
    assert (limit.max_reports, limit.window_minutes) == (3, 10)


@pytest.mark.parametrize(
    ("submitted", "allowed"),
    [
        ([], None),
        (minutes_ago(1), None),
        (minutes_ago(1, 2), None),
        (minutes_ago(1, 2, 3), NOW + timedelta(minutes=7)),  # the oldest leaves in 7 minutes
        (minutes_ago(3, 1, 2), NOW + timedelta(minutes=7)),  # order does not matter
        (minutes_ago(1, 2, 10), None),  # the oldest has just left
        (minutes_ago(1, 2, 11, 30, 60), None),  # old reports do not count
        (minutes_ago(1, 2, 3, 4), NOW + timedelta(minutes=7)),  # over the limit: two must leave
    ],
)
def test_next_allowed(submitted: list[datetime], allowed: datetime | None) -> None:
    assert next_allowed(submitted, NOW, ReportLimit()) == allowed


def test_a_stricter_limit() -> None:
    limit = ReportLimit(max_reports=1, window_minutes=30)
    assert next_allowed(minutes_ago(5), NOW, limit) == NOW + timedelta(minutes=25)
    assert next_allowed(minutes_ago(30), NOW, limit) is None


@pytest.mark.parametrize(("max_reports", "window_minutes"), [(0, 10), (3, 0), (-1, -1)])
def test_a_limit_that_allows_nothing_is_refused(max_reports: int, window_minutes: int) -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReportLimit(max_reports, window_minutes)


@FAST
@given(
    st.integers(1, 10),
    st.integers(1, 120),
    st.lists(st.integers(0, 10**6), min_size=10, max_size=10),
)
def test_exactly_max_reports_in_the_window_wait_for_the_oldest(
    max_reports: int, window_minutes: int, offsets: list[int]
) -> None:
    limit = ReportLimit(max_reports, window_minutes)
    window = timedelta(minutes=window_minutes)
    # `max_reports` reports strictly inside the window, in any order.
    ages = [timedelta(microseconds=o % (window // timedelta(microseconds=1))) for o in offsets]
    submitted = [NOW - age for age in ages[:max_reports]]
    oldest = min(submitted)

    leaves = next_allowed(submitted, NOW, limit)

    assert leaves == oldest + window
    assert next_allowed(submitted, leaves, limit) is None
    assert next_allowed(submitted, leaves - timedelta(microseconds=1), limit) == leaves
