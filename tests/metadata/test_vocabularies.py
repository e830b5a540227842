"""The shipped vocabularies, read without a database."""

from collections import Counter

from metadata.text import name_key
from metadata.vocabularies import gazetteer
from metadata.vocabularies.ethnic_groups import load_ethnic_groups


def test_all_54_ethnic_groups_with_names_and_sub_groups():
    groups = {g.id: g for g in load_ethnic_groups()}
    assert len(groups) == 54
    assert [g.gso_code for g in load_ethnic_groups()] == [f"{n:02d}" for n in range(1, 55)]
    san_chay = groups["san-chay"]
    assert san_chay.name_vi == "Sán Chay"
    # Written "Sán Chỉ" or "Sán Chí" in different sources; look-ups fold the tone marks.
    assert {"cao lan", "san chi"} <= {name_key(n) for n in san_chay.subgroups}
    assert groups["hmong"].language_family == "hmong-mien"
    assert groups["e-de"].languages == ["rad"]
    assert all(g.name_en and g.name_vi and g.provinces and g.description.get("en") for g in groups.values())


def test_gazetteer_holds_both_systems():
    places = list(gazetteer.iter_places())
    counts = Counter((p.system, p.level) for p in places)
    assert counts[("pre2025", "province")] == 63
    assert counts[("pre2025", "district")] == 696
    assert counts[("2025", "province")] == 34
    assert counts[("2025", "commune")] == 3321
    assert counts[("pre2025", "commune")] > 10000
    assert all(p.latitude and p.longitude for p in places if p.level == "province")


def test_every_old_province_and_commune_has_a_successor():
    places = list(gazetteer.iter_places())
    successions = list(gazetteer.iter_successions(places))
    by_code = {p.code: p for p in places}
    old = {p.code for p in places if p.system == "pre2025" and p.level in ("province", "commune")}
    assert old <= {s.old_code for s in successions}
    new_of_bac_kan = [
        by_code[s.new_code].name
        for s in successions
        if by_code[s.old_code].name == "Bắc Kạn" and by_code[s.old_code].level == "province"
    ]
    assert new_of_bac_kan == ["Thái Nguyên"]
