"""The kinds of incident the hub handles, with their names in commands and the default routing."""

from __future__ import annotations

from enum import StrEnum


class IncidentType(StrEnum):
    """Values are the Indonesian codes used in commands and stored in the database."""

    FIRE = "kebakaran"
    FOREST_FIRE = "karhutla"  # forest and land fire: the region's seasonal peat fires
    MEDICAL = "medis"
    TRAFFIC = "kecelakaan"
    FLOOD = "banjir"
    RESCUE = "penyelamatan"  # water, height, trapped people
    ANIMAL = "hewan"  # snakes, bees: Damkar handles these in Indonesia
    COLLAPSE = "runtuh"  # building collapse
    OTHER = "lainnya"

    @property
    def emoji(self) -> str:
        return _EMOJI[self]

    @property
    def english_code(self) -> str:
        return _ENGLISH[self]

    @property
    def label_key(self) -> str:
        """Message key of the type's human name."""
        return f"type.{self.value}"

    @classmethod
    def parse(cls, text: str) -> IncidentType | None:
        """An incident type from its Indonesian or English code, any case."""
        word = text.strip().lower().replace("-", "_")
        for kind in cls:
            if word in (kind.value, kind.english_code):
                return kind
        return None


_EMOJI = {
    IncidentType.FIRE: "🔥",
    IncidentType.FOREST_FIRE: "🌳",
    IncidentType.MEDICAL: "🚑",
    IncidentType.TRAFFIC: "🚗",
    IncidentType.FLOOD: "🌊",
    IncidentType.RESCUE: "🛟",
    IncidentType.ANIMAL: "🐍",
    IncidentType.COLLAPSE: "🏚️",
    IncidentType.OTHER: "❗",
}

_ENGLISH = {
    IncidentType.FIRE: "fire",
    IncidentType.FOREST_FIRE: "forest_fire",
    IncidentType.MEDICAL: "medical",
    IncidentType.TRAFFIC: "traffic",
    IncidentType.FLOOD: "flood",
    IncidentType.RESCUE: "rescue",
    IncidentType.ANIMAL: "animal",
    IncidentType.COLLAPSE: "collapse",
    IncidentType.OTHER: "other",
}


# Types that one event is often reported as, either way round: a house fire that spreads to the
# peat behind it, a traffic accident reported as a medical emergency. A new report is compared
# with open incidents of its own type and of these (duplicate detection, models.duplicates).
_RELATED: dict[IncidentType, frozenset[IncidentType]] = {
    IncidentType.FIRE: frozenset({IncidentType.FOREST_FIRE}),
    IncidentType.FOREST_FIRE: frozenset({IncidentType.FIRE}),
    IncidentType.TRAFFIC: frozenset({IncidentType.MEDICAL}),
    IncidentType.MEDICAL: frozenset({IncidentType.TRAFFIC}),
}


def related_types(kind: IncidentType) -> frozenset[IncidentType]:
    """The types a report of `kind` may repeat: its own and the related ones."""
    return frozenset({kind}) | _RELATED.get(kind, frozenset())
