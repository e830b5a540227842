"""The seed datasets: compiled from the programme's published figures, loaded with the demo, public."""

from __future__ import annotations

import datetime as dt

from archive.datasets import services
from archive.datasets.seed import load_seed_datasets
from metadata.datasets import seed_datasets
from metadata.dcat import DEFAULT_LICENCE, THEMES


def _rows(slug: str, table: str) -> list[dict]:
    dataset = services.get_by_slug(slug)
    content = services.table_content(dataset.latest_version.table(table))
    return [dict(zip(content.names, row, strict=True)) for row in content.rows]


def _one(rows: list[dict], **where) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in where.items())]
    assert len(found) == 1, (where, found)
    return found[0]


def test_every_seed_dataset_is_loaded_public_and_labelled(db):
    seeds = seed_datasets()
    assert len(seeds) == 5
    for seed in seeds:
        dataset = services.get_by_slug(seed.slug)
        assert dataset is not None and dataset.is_public, seed.slug
        assert dataset.origin == "compiled"
        assert dataset.license_uri == DEFAULT_LICENCE
        assert dataset.accrual_periodicity == "IRREG"
        assert dataset.themes and all(t in THEMES for t in dataset.themes)
        assert dataset.spatial and all(c.startswith(("pre2025-p", "2025-p")) for c in dataset.spatial)
        descriptions = {v.lang: v.value for v in dataset.description_values}
        assert "không phải số liệu thống kê chính thức" in descriptions["vi"]
        assert "not official statistics" in descriptions["en"]
        assert {v.lang for v in dataset.title_values} == {"vi", "en"}
        assert {v.lang for v in dataset.keyword_values} == {"vi", "en"}
        version = dataset.latest_version
        assert [t.name for t in version.tables] == [t.name for t in seed.tables]
        for table in version.tables:
            assert table.is_valid and table.schema_confirmed
            assert table.provenance_values
            assert all(set(f["titles"]) == {"vi", "en"} for f in table.fields)
    assert services.get_by_slug("ethnic-minority-population-reported") in services.concerning({"tay"})
    assert services.get_by_slug("community-digital-teams-and-indicators") in services.concerning(
        set(), {"2025-p15"}
    )


def test_every_row_names_its_source_and_quotes_it(db):
    for seed in seed_datasets():
        for table in seed.tables:
            for row in _rows(seed.slug, table.name):
                assert row["source"] and row["quote"], (seed.slug, table.name, row)
                assert row["source_date"] is None or isinstance(row["source_date"], dt.date)


def test_figures_match_the_articles(db):
    funds = _rows("programme-funds-reported", "funds")
    quang_ngai = _one(funds, province_code="pre2025-p51")
    assert (quang_ngai["amount_billion_vnd"], quang_ngai["qualifier"], quang_ngai["period"]) == (
        1070,
        "more_than",
        "2022-2023",
    )
    assert quang_ngai["source_date"] is None  # the article gives no date of publication
    son_la = _one(funds, province_code="pre2025-p14")
    assert (son_la["amount_billion_vnd"], son_la["qualifier"], son_la["period"]) == (916, "nearly", "2024")
    bac_giang = _one(funds, province_code="pre2025-p24", amount_billion_vnd=110)
    assert bac_giang["qualifier"] == "nearly" and bac_giang["province_code_2025"] == "2025-p24"

    population = _rows("ethnic-minority-population-reported", "population")
    assert _one(population, area="Tỉnh Bắc Giang", indicator="minority_share")["value"] == 14.26
    people = _one(population, area="Tỉnh Bắc Giang", indicator="minority_population")
    assert (people["value"], people["qualifier"]) == (257000, "more_than")
    assert _one(population, area_code="pre2025-d086", indicator="minority_share")["value"] == 41

    teams = _rows("community-digital-teams-and-indicators", "teams-and-services")
    members = _one(teams, area_code="pre2025-d086", indicator="team_members")
    assert (members["value"], members["qualifier"], members["source_date"]) == (
        1300,
        "nearly",
        dt.date(2024, 12, 6),
    )
    assert _one(teams, area_code="pre2025-d086", indicator="teams")["value"] == 188
    gia_phu = _rows("community-digital-teams-and-indicators", "gia-phu-commune")
    assert _one(gia_phu, indicator="households_broadband_4g_share")["value"] == 70
    assert _one(gia_phu, indicator="households_smartphone_share")["value"] == 90

    units = _rows("ethnic-minority-area-units", "units")
    assert _one(units, province_code="pre2025-p51", unit="communes")["count"] == 61
    assert _one(units, area_code="pre2025-d086", unit="villages")["count"] == 188

    targets = _rows("digital-transformation-targets-2025", "targets")
    meetings = _one(targets, scope="national", target="online_meetings")
    assert (meetings["value_percent"], meetings["qualifier"], meetings["plan_date"]) == (
        30,
        "at_least",
        dt.date(2023, 5, 12),
    )
    assert meetings["source_date"] == dt.date(2023, 5, 29)
    restating = {
        r["province_code"] for r in targets if r["target"] == "online_meetings" and r["scope"] == "province"
    }
    assert restating == {"pre2025-p24", "pre2025-p51", "pre2025-p52"}
    assert _one(targets, scope="national", target="published_data_usable_digitally")["value_percent"] == 100


def test_loading_again_changes_nothing(db, runner):
    before = {s.slug: len(services.get_by_slug(s.slug).versions) for s in seed_datasets()}
    assert load_seed_datasets() == 0
    result = runner.invoke(args=["archive", "datasets", "seed"])
    assert result.exit_code == 0, result.output
    assert "0 created" in result.output
    assert {s.slug: len(services.get_by_slug(s.slug).versions) for s in seed_datasets()} == before


def test_seed_tables_download_as_csv(client):
    dataset = services.get_by_slug("programme-funds-reported")
    response = client.get(f"/datasets/programme-funds-reported/v{dataset.latest_version.number}/funds.csv")
    assert response.status_code == 200
    assert "Quảng Ngãi" in response.get_data(as_text=True)
