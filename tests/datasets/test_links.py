"""Record and ethnic-group pages link to the dataset rows and datasets that concern them."""

from __future__ import annotations

from archive.datasets.generated import dataset_of


def test_record_page_links_to_its_rows_and_compiled_datasets(client, make_record):
    record = make_record(ethnic_groups=["tay"], places=["pre2025-p10"], category="festival")
    page = client.get(f"/en/records/{record.public_id}", follow_redirects=True).get_data(as_text=True)
    assert "In the open datasets" in page
    groups = dataset_of("records-by-ethnic-group")
    number = groups.latest_version.number
    assert f"/en/datasets/{groups.slug}/v{number}/by-ethnic-group?f.group_slug=tay" in page
    provinces = dataset_of("records-by-province")
    assert (
        f"/en/datasets/{provinces.slug}/v{provinces.latest_version.number}/provinces-2025?f.province_code=2025-p15"
        in page
    )
    assert "f.province_code=pre2025-p10" in page
    assert "f.category=festival" in page
    assert "/en/datasets/community-digital-teams-and-indicators" in page  # covers Lào Cai


def test_group_page_links_to_its_row_and_the_datasets_about_it(client):
    page = client.get("/en/groups/tay").get_data(as_text=True)
    assert "In the open datasets" in page
    assert "by-ethnic-group?f.group_slug=tay" in page
    assert "/en/datasets/ethnic-minority-population-reported" in page
    other = client.get("/en/groups/e-de").get_data(as_text=True)
    assert "ethnic-minority-population-reported" not in other


def test_the_row_link_opens_the_filtered_table(client):
    groups = dataset_of("records-by-ethnic-group")
    response = client.get(
        f"/en/datasets/{groups.slug}/v{groups.latest_version.number}/by-ethnic-group?f.group_slug=tay"
    )
    assert response.status_code == 200
    assert "/groups/tay" in response.get_data(as_text=True)
