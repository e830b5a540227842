"""The server-rendered SVG chart: well-formed, accessible, one bar per row up to the limit."""

from __future__ import annotations

from lxml import etree

from metadata import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str):
    return etree.fromstring(markup.encode("utf-8"))


def test_bar_chart_is_accessible_svg_with_a_bar_and_a_value_per_row():
    bars = [charts.Bar("Quảng Ngãi", 61), charts.Bar("Bắc Giang <&>", 120), charts.Bar("Lào Cai", 0)]
    root = parse(
        charts.bar_chart(bars, title="Xã theo tỉnh", description="Ba tỉnh", format_value=lambda v: f"{v:,}")
    )
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Xã theo tỉnh" and desc.text == "Ba tỉnh"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    groups = root.findall(f"{SVG}g")
    assert len(groups) == 3
    texts = [[t.text for t in g.findall(f"{SVG}text")] for g in groups]
    assert texts == [["Quảng Ngãi", "61"], ["Bắc Giang <&>", "120"], ["Lào Cai", "0"]]
    widths = [float(g.find(f"{SVG}rect").get("width")) for g in groups]
    assert widths[1] > widths[0] > widths[2] == 0
    # The viewBox is phone-sized, so text stays readable at 360 px.
    assert root.get("viewBox").split()[2] == "360"


def test_plotted_drops_rows_without_a_value_and_cuts_at_the_limit():
    bars = [charts.Bar(f"r{n}", n) for n in range(40)] + [charts.Bar("none", None), charts.Bar("text", "x")]
    shown = charts.plotted(bars)
    assert len(shown) == charts.MAX_BARS == 30
    assert shown[0].label == "r0"
    summary = charts.summarise(shown)
    assert (summary.count, summary.lowest.label, summary.highest.label) == (30, "r0", "r29")
    assert charts.summarise([]).count == 0


def test_long_labels_are_shortened_but_kept_whole_in_the_bar_title():
    label = "Tỉnh " + "rất dài " * 20
    root = parse(charts.bar_chart([charts.Bar(label, 5)], title="t", description="d"))
    group = root.find(f"{SVG}g")
    assert len(group.find(f"{SVG}text").text) <= charts.LABEL_CHARS
    assert group.find(f"{SVG}title").text.startswith(" ".join(label.split()))
