"""The JSON pickers behind the record form's comboboxes: ethnic groups, places (old and new units),
agents, subjects and the lunar-date preview."""

from __future__ import annotations

import datetime as dt

import pytest

from metadata.languages import LangString
from metadata.lunar import leap_month, month_length, to_gregorian

EN = {"Accept-Language": "en"}


@pytest.fixture
def contributor(login):
    return login("contributor")


def results(client, url: str, headers=None) -> list[dict]:
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    return response.get_json()["results"]


PICKERS = [
    "/pickers/ethnic-groups.json?q=tay",
    "/pickers/places.json?q=cho%20don",
    "/pickers/agents.json?q=nong",
    "/pickers/subjects.json?q=le",
    "/pickers/lunar.json?month=1&day=1&year=2027",
]


@pytest.mark.parametrize("url", PICKERS)
def test_pickers_are_for_signed_in_contributors(client, login, url):
    response = client.get(url)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "sign_in"
    login("researcher")
    assert client.get(url).status_code == 403
    client.post("/logout")
    login("contributor")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/pickers/ethnic-groups.json",
        "/pickers/ethnic-groups.json?q=",
        "/pickers/agents.json?q=" + "a" * 101,
        "/pickers/subjects.json?q=%20%20",
        "/pickers/places.json?q=ha&system=1990",
    ],
)
def test_a_missing_or_bad_query_is_a_400_with_a_message(client, contributor, url):
    response = client.get(url, headers=EN)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_ethnic_groups_match_without_diacritics_and_by_other_names(client, contributor):
    for q in ("tay", "Tày", "TAY"):
        found = results(client, f"/pickers/ethnic-groups.json?q={q}")
        assert found[0] == {"ref": "tay", "label": "Tày", "detail": found[0]["detail"]}
        assert len(found) <= 20
    assert "hmong" in [r["ref"] for r in results(client, "/pickers/ethnic-groups.json?q=mong")]
    # "Thổ" is another name of the Tày, and the name of the Thổ people: the Thổ come first.
    assert [r["ref"] for r in results(client, "/pickers/ethnic-groups.json?q=tho")][:1] == ["tho"]
    assert len(results(client, "/pickers/ethnic-groups.json?q=a")) == 20
    assert results(client, "/pickers/ethnic-groups.json?q=zzzz") == []


def test_places_of_the_old_and_the_new_system(client, contributor):
    old = results(client, "/pickers/places.json?q=cho%20don&system=pre2025", EN)
    assert old and all(r["system"] == "pre2025" for r in old)
    district = next(r for r in old if r["ref"] == "pre2025-d064")
    assert district["label"] == "Chợ Đồn, Bắc Kạn"
    assert district["full_name"] == "Huyện Chợ Đồn, Tỉnh Bắc Kạn"
    # An old unit says which new province it lies in today.
    assert district["current_province"] == "Thái Nguyên"
    assert "today in Thái Nguyên" in district["detail"]
    new = results(client, "/pickers/places.json?q=Chợ%20Đồn&system=2025")
    assert new and all(r["system"] == "2025" and r["current_province"] is None for r in new)
    both = {r["system"] for r in results(client, "/pickers/places.json?q=cho%20don")}
    assert both == {"pre2025", "2025"}
    # A name path narrows by the units above.
    path = results(client, "/pickers/places.json?q=cho%20don,%20bac%20kan&system=pre2025")
    assert [r["ref"] for r in path] == ["pre2025-d064"]
    assert len(results(client, "/pickers/places.json?q=thanh")) == 20
    # Provinces before districts before communes among equal names.
    levels = [r["level"] for r in results(client, "/pickers/places.json?q=lao%20cai&system=pre2025")]
    assert levels[0] == "province" and levels == sorted(levels, key=["province", "district", "commune"].index)


def test_agents_and_subjects_already_in_the_archive(client, contributor, make_record):
    make_record(
        agents=[
            ("Hoàng Thị Thảo", "informant", "person"),
            ("Đội văn nghệ xã Cải", "performer", "organisation"),
        ],
        subjects=[[LangString("dệt thổ cẩm bản Lác", "vi"), LangString("Lac village brocade", "en")]],
    )
    agents = results(client, "/pickers/agents.json?q=hoang%20thi", EN)
    assert agents[0]["label"] == "Hoàng Thị Thảo" and agents[0]["fill"] == {"kind": "person"}
    team = results(client, "/pickers/agents.json?q=doi%20van%20nghe")[0]
    assert team["fill"] == {"kind": "organisation"}
    (subject,) = results(client, "/pickers/subjects.json?q=tho%20cam%20ban%20lac", EN)
    # In the reader's language when the subject has a label in it.
    assert subject["label"] == "Lac village brocade" and subject["fill"] == {"lang": "en"}
    assert subject["detail"] == "dệt thổ cẩm bản Lác"
    assert (
        results(client, "/pickers/subjects.json?q=Thổ cẩm bản&lang=vi")[0]["label"] == "dệt thổ cẩm bản Lác"
    )


def test_the_lunar_preview_gives_the_gregorian_dates(client, contributor):
    response = client.get("/pickers/lunar.json?month=1&day=15&duration=3&year=2027", headers=EN)
    assert response.status_code == 200
    body = response.get_json()
    start = to_gregorian(2027, 1, 15)
    assert body["dates"] == [{"start": start.isoformat(), "end": (start + dt.timedelta(days=2)).isoformat()}]
    assert body["text"].startswith("In 2027 this falls on ")
    # A day chosen each year: the whole month.
    body = client.get("/pickers/lunar.json?month=3&year=2026").get_json()
    first = to_gregorian(2026, 3, 1)
    last = first + dt.timedelta(days=month_length(2026, 3) - 1)
    assert body["dates"] == [{"start": first.isoformat(), "end": last.isoformat()}]


def test_a_leap_month_that_does_not_exist_that_year(client, contributor):
    year = next(y for y in range(2025, 2040) if leap_month(y))
    month = leap_month(year)
    ok = client.get(f"/pickers/lunar.json?month={month}&day=1&leap=1&year={year}")
    assert ok.status_code == 200
    assert ok.get_json()["dates"][0]["start"] == to_gregorian(year, month, 1, leap=True).isoformat()
    common = next(y for y in range(year + 1, year + 5) if leap_month(y) is None)
    refused = client.get(f"/pickers/lunar.json?month={month}&day=1&leap=1&year={common}", headers=EN)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "no_leap_month"
    assert error["message"].startswith(f"In {common} there is no leap month {month}")
    vietnamese = client.get(f"/pickers/lunar.json?month={month}&day=1&leap=1&year={common}&lang=vi")
    assert vietnamese.status_code == 422 and vietnamese.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "query",
    ["", "month=13&day=1", "month=1&day=31", "month=1&day=x", "month=1&day=1&year=1800", "month=1&leap=maybe",
     "month=1&day=1&duration=61", "month=-1"],
)  # fmt: skip
def test_bad_lunar_parameters_are_a_400(client, contributor, query):
    response = client.get(f"/pickers/lunar.json?{query}", headers=EN)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_parameters"
