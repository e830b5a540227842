"""The gazetteer in the database: both systems, the old -> new mapping, and look-ups by name."""

import sqlalchemy as sa

from archive.records.services import public_records_in_current_province
from archive.vocab.models import Place, PlaceSuccession
from archive.vocab.services import LookupError_, find_ethnic_group, find_place


def test_both_systems_are_loaded(db):
    count = lambda **kw: db.session.scalar(sa.select(sa.func.count()).select_from(Place).filter_by(**kw))  # noqa: E731
    assert count(system="pre2025", level="province") == 63
    assert count(system="pre2025", level="district") == 696
    assert count(system="2025", level="province") == 34
    assert count(system="2025", level="commune") == 3321


def test_a_record_catalogued_under_bac_kan_is_found_under_thai_nguyen(db, make_record):
    bac_kan = find_place("pre2025-p06")
    assert bac_kan.name == "Bắc Kạn" and bac_kan.current_province.name == "Thái Nguyên"
    record = make_record(title="Bản ghi Bắc Kạn 2019", places=["Chợ Đồn, Bắc Kạn"])
    assert record.places[0].level == "district" and record.places[0].is_historical
    thai_nguyen = find_place("Thái Nguyên")
    assert thai_nguyen.system == "2025"
    assert record in public_records_in_current_province(thai_nguyen)
    lao_cai = find_place("Lào Cai")
    assert record not in public_records_in_current_province(lao_cai)


def test_old_communes_map_to_new_communes(db):
    old = find_place("pre2025-c02023")  # Xuân Lạc, Chợ Đồn district, Bắc Kạn
    successors = db.session.scalars(sa.select(PlaceSuccession).where(PlaceSuccession.old_id == old.id)).all()
    assert successors and all(s.new.system == "2025" and s.new.level == "commune" for s in successors)
    assert {s.new.parent.name for s in successors} == {"Thái Nguyên"}


def test_name_lookups(db):
    assert find_place("Bac Kan").code == "pre2025-p06"  # diacritics are optional
    assert find_place("Lào Cai").system == "2025"  # in both systems: today's unit is chosen
    assert find_place("pre2025-p10").name == "Lào Cai"  # the code picks the historical one
    for ref, code in (("Atlantis", "unknown_place"), ("Chợ Đồn, Cà Mau", "unknown_place")):
        try:
            find_place(ref)
        except LookupError_ as error:
            assert error.code == code
        else:
            raise AssertionError(f"{ref} should not resolve")


def test_ethnic_group_lookups(db):
    assert find_ethnic_group("tay").name_vi == "Tày"
    assert find_ethnic_group("08").slug == "hmong"
    assert find_ethnic_group("Mông").slug == "hmong"
    assert find_ethnic_group("Hmong").slug == "hmong"
    assert find_ethnic_group("Cao Lan").slug == "san-chay"  # a sub-group name
    assert find_ethnic_group("e de").slug == "e-de"
    try:
        find_ethnic_group("Klingon")
    except LookupError_ as error:
        assert error.code == "unknown_ethnic_group"
    else:
        raise AssertionError("unknown group resolved")
