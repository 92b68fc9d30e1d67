"""The map: the embedded default, and clear errors for bad maps."""

from __future__ import annotations

import copy

import pytest
import yaml

from plansentry.domains.warehouse.map import MapError, load_map, parse_map


@pytest.fixture(scope="module")
def raw_default() -> dict:
    from importlib.resources import files

    return yaml.safe_load(
        files("plansentry.domains.warehouse").joinpath("default_map.yaml").read_text()
    )


def test_default_map_has_what_the_domain_needs(wh) -> None:
    """At least 200 bins, two pack stations, a staff-only zone and a lower-speed zone."""
    assert len(wh.bins) >= 200
    assert len(wh.pack_stations) >= 2
    kinds = {z.kind for z in wh.zones.values()}
    assert {"staff_only", "speed", "closable"} <= kinds
    assert any(
        z.speed_limit_mps is not None and z.speed_limit_mps < wh.max_speed_mps
        for z in wh.zones.values()
    )


def test_bins_sit_on_shelves_beside_floor(wh) -> None:
    """Every bin is a shelf cell; its access cell is floor next to it."""
    for b in wh.bins.values():
        assert b.shelf not in wh.free and b.access in wh.free
        (x0, y0), (x1, y1) = wh.xy(b.shelf), wh.xy(b.access)
        assert abs(x0 - x1) + abs(y0 - y1) == 1


def edit(raw: dict, path: list, value) -> dict:
    data = copy.deepcopy(raw)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (["max_speed_mps"], float("nan"), "map.max_speed_mps"),
        (["max_speed_mps"], 0, "map.max_speed_mps: must be > 0"),
        (["zones", 0, "kind"], "robots_only", "map.zones[0].kind: unknown zone kind 'robots_only'"),
        (["zones", 1, "speed_limit_mps"], -1, "map.zones[1].speed_limit_mps"),
        (["zones", 2, "rects"], [[1, 1, 99, 1]], "map.zones[2].rects[0]"),
        (["pack_stations", "PACK-1"], [0, 0], "map.pack_stations.PACK-1: cell [0, 0] is not floor"),
        (
            ["pack_stations", "PACK-2"],
            [29, 5],
            "map.pack_stations.PACK-2: inside a staff-only zone",
        ),
        (["grid"], "..\n.", "map.grid: row 1 has 1 cells"),
        (["grid"], "..x", "unknown cell 'x'"),
    ],
)
def test_bad_map_names_the_field(raw_default, path, value, needle) -> None:
    """Each kind of mistake fails at load with the field named."""
    with pytest.raises(MapError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        parse_map(edit(raw_default, path, value))


def test_unreachable_bin_fails_at_load(raw_default) -> None:
    """A bin walled off from the pack stations is refused, naming the bin."""
    grid = raw_default["grid"].splitlines()
    for y in (11, 21):  # wall off the lower half of aisle A at both ends
        row = list(grid[y])
        row[3] = "#"
        grid[y] = "".join(row)
    with pytest.raises(MapError, match=r"bin A-1\d-[LR] is unreachable"):
        parse_map(edit(raw_default, ["grid"], "\n".join(grid)))


def test_load_map_reports_file_and_yaml_errors(tmp_path) -> None:
    """Missing files and broken YAML are MapErrors naming the file."""
    with pytest.raises(MapError, match="cannot read map"):
        load_map(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid: [unclosed\n")
    with pytest.raises(MapError, match=r"bad\.yaml: not valid YAML"):
        load_map(bad)


def test_user_map_loads_from_a_file(tmp_path, raw_default) -> None:
    """A map written to disk loads like the default."""
    p = tmp_path / "site.yaml"
    p.write_text(yaml.safe_dump(edit(raw_default, ["version"], "7")))
    assert load_map(p).version == "7"
