"""The controlled list of record categories, aligned with the UNESCO intangible-heritage domains.

The five domains are those of Article 2.2 of the 2003 Convention for the Safeguarding of the
Intangible Cultural Heritage. Each archive category falls under exactly one domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from metadata.languages import LangString, from_mapping

UNESCO_DOMAINS: dict[str, dict[str, str]] = {
    "oral-traditions": {
        "en": "Oral traditions and expressions, including language",
        "vi": "Truyền thống và biểu đạt truyền khẩu, bao gồm cả ngôn ngữ",
    },
    "performing-arts": {"en": "Performing arts", "vi": "Nghệ thuật trình diễn"},
    "social-practices": {
        "en": "Social practices, rituals and festive events",
        "vi": "Tập quán xã hội, tín ngưỡng và lễ hội",
    },
    "knowledge-nature": {
        "en": "Knowledge and practices concerning nature and the universe",
        "vi": "Tri thức và thực hành liên quan đến tự nhiên và vũ trụ",
    },
    "craftsmanship": {"en": "Traditional craftsmanship", "vi": "Nghề thủ công truyền thống"},
}


@dataclass(frozen=True)
class Category:
    """One entry of the category list."""

    code: str
    domain: str
    labels: dict[str, str]
    dcmi_type: str

    @property
    def label_values(self) -> list[LangString]:
        """Labels as language-tagged values."""
        return from_mapping(self.labels)

    @property
    def domain_values(self) -> list[LangString]:
        """UNESCO domain name as language-tagged values."""
        return from_mapping(UNESCO_DOMAINS[self.domain])


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in [
        Category("festival", "social-practices", {"vi": "Lễ hội", "en": "Festival"}, "Event"),
        Category("ritual", "social-practices", {"vi": "Nghi lễ", "en": "Ritual"}, "Event"),
        Category("custom", "social-practices", {"vi": "Phong tục, tập quán", "en": "Custom"}, "Event"),
        Category(
            "performing_art",
            "performing-arts",
            {"vi": "Nghệ thuật trình diễn", "en": "Performing art"},
            "Event",
        ),
        Category(
            "oral_tradition",
            "oral-traditions",
            {"vi": "Ngữ văn dân gian, truyền khẩu", "en": "Oral tradition"},
            "Text",
        ),
        Category(
            "craft", "craftsmanship", {"vi": "Nghề thủ công truyền thống", "en": "Craft"}, "PhysicalObject"
        ),
        Category(
            "traditional_knowledge",
            "knowledge-nature",
            {"vi": "Tri thức dân gian", "en": "Traditional knowledge"},
            "Text",
        ),
    ]
}


def category_codes() -> list[str]:
    """All category codes in display order."""
    return list(CATEGORIES)
