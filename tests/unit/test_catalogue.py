"""Meshy's model catalogue (api/data/models.json) read through api.catalogue."""

from __future__ import annotations

import datetime
import json

import pytest

from meshy_blender.api import catalogue

NOV_2026 = datetime.date(2026, 11, 29)


@pytest.fixture(scope="module")
def cat() -> catalogue.Catalogue:
    return catalogue.load()


def test_latest_is_explained_as_the_model_it_stands_for(cat: catalogue.Catalogue) -> None:
    assert cat.label("latest") == "Latest — Meshy-7.1 today"
    assert cat.resolve("latest") is cat.model("meshy-7.1")


def test_menus_offer_active_and_deprecated_models_never_retired_ones(cat: catalogue.Catalogue) -> None:
    offered = [model.id for model in cat.offered("text-to-3d", NOV_2026)]
    assert offered[:2] == ["latest", "meshy-7.1"]
    assert {"meshy-7", "meshy-6", "meshy-6-lite", "meshy-t2.5"} <= set(offered)
    assert not {"meshy-5", "meshy-4", "meshy-3", "meshy-t1"} & set(offered)
    # Multi-image: Meshy-6 and newer since 2026-01-26; no Smart Topology there.
    multi = [model.id for model in cat.offered("multi-image-to-3d", NOV_2026)]
    assert "meshy-6" in multi and "meshy-t2" not in multi


def test_a_deprecated_model_retires_on_its_day(cat: catalogue.Catalogue) -> None:
    body = {"ai_model": "meshy-7"}
    assert cat.refusal("text-to-3d", body, NOV_2026) is None
    assert "retires 2026-12-31" in cat.describe("meshy-7", "text-to-3d", NOV_2026)
    refusal = cat.refusal("text-to-3d", body, datetime.date(2026, 12, 31))
    assert refusal is not None and "'meshy-7.1'" in refusal.message
    assert "meshy-7" not in [model.id for model in cat.offered("text-to-3d", datetime.date(2027, 1, 1))]
    # ...but stays a texture model for Retexture.
    assert cat.refusal("retexture", body, datetime.date(2027, 1, 1)) is None


@pytest.mark.parametrize(
    ("model_id", "replacement"), [("meshy-5", "meshy-6-lite"), ("meshy-4", "meshy-6"), ("meshy-t1", "meshy-t2.5")]
)
def test_a_retired_model_is_refused_naming_its_replacement(
    cat: catalogue.Catalogue, model_id: str, replacement: str
) -> None:
    refusal = cat.refusal("image-to-3d", {"ai_model": model_id}, NOV_2026)
    assert refusal is not None and refusal.field == "ai_model"
    assert f"'{model_id}'" in refusal.message and f"use '{replacement}'" in refusal.message


def test_an_unknown_model_is_never_refused_and_honours_every_option(cat: catalogue.Catalogue) -> None:
    body = {"ai_model": "meshy-8", "geometry_resolution": "4k", "texture_resolution": "8k", "art_style": "sculpture"}
    assert cat.refusal("multi-image-to-3d", body, NOV_2026) is None
    assert cat.honours("text-to-3d", "meshy-8", "symmetry_mode")
    assert cat.cost("text-to-3d", "meshy-8", "preview") == 20


def test_retired_options_name_their_replacement(cat: catalogue.Catalogue) -> None:
    lowpoly = cat.refusal("image-to-3d", {"model_type": "lowpoly"}, NOV_2026)
    assert lowpoly is not None and lowpoly.field == "model_type" and "meshy-t2.5" in lowpoly.message
    old_pose = cat.refusal("text-to-3d", {"is_a_t_pose": True}, NOV_2026)
    assert old_pose is not None and "pose_mode" in old_pose.message


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("image-to-3d", {"ai_model": "meshy-6-lite", "texture_resolution": "4k"}, "texture_resolution"),
        ("multi-image-to-3d", {"ai_model": "latest", "geometry_resolution": "4k"}, "geometry_resolution"),
        ("text-to-3d", {"ai_model": "meshy-6", "geometry_resolution": "2k"}, "geometry_resolution"),
        ("text-to-3d", {"ai_model": "meshy-t2", "target_polycount": 20_000}, "target_polycount"),
        ("text-to-3d", {"ai_model": "meshy-t2.5", "topology": "quad"}, "topology"),
        ("multi-image-to-3d", {"ai_model": "meshy-t2"}, "ai_model"),
        ("image-to-3d", {"ai_model": "meshy-t2.5", "model_type": "standard"}, "model_type"),
    ],
)
def test_values_a_known_model_cannot_make_are_refused(
    cat: catalogue.Catalogue, endpoint: str, body: dict[str, object], field: str
) -> None:
    refusal = cat.refusal(endpoint, body, NOV_2026)
    assert refusal is not None and refusal.field == field


def test_options_a_model_ignores_are_not_honoured(cat: catalogue.Catalogue) -> None:
    for model_id in ("latest", "meshy-6", "meshy-6-lite"):
        assert not cat.honours("text-to-3d", model_id, "symmetry_mode")
        assert not cat.honours("text-to-3d", model_id, "art_style")
    assert cat.honours("text-to-3d", "latest", "geometry_resolution")
    assert not cat.honours("text-to-3d", "meshy-6", "geometry_resolution")
    assert not cat.honours("image-to-3d", "meshy-6-lite", "texture_resolution")  # 2k only: nothing to choose
    assert cat.choices("multi-image-to-3d", "latest", "geometry_resolution", ("standard", "2k", "4k")) == (
        "standard",
        "2k",
    )


def test_smart_topology_models_set_their_model_type_and_meshy6_defaults_follow(cat: catalogue.Catalogue) -> None:
    assert cat.completed("image-to-3d", {"ai_model": "meshy-t2.5"})["model_type"] == "smart-topology"
    assert cat.completed("image-to-3d", {"ai_model": "meshy-9"}) == {"ai_model": "meshy-9"}
    assert cat.default("meshy-6", "should_remesh", True) is False
    assert cat.default("latest", "should_remesh", True) is False
    assert cat.default("meshy-9", "should_remesh", True) is True


def test_costs_follow_the_catalogue(cat: catalogue.Catalogue) -> None:
    assert cat.cost("text-to-3d", "latest", "preview") == 20
    assert cat.cost("text-to-3d", "latest", "refine") == 10
    assert cat.cost("image-to-3d", "meshy-6", "untextured") == 20
    assert cat.cost("text-to-image", "nano-banana", "task") == 3
    assert cat.cost("rigging", "", "task") == 5


def test_every_model_an_endpoint_lists_is_described_and_replacements_exist() -> None:
    data = json.loads(catalogue.DATA_FILE.read_text(encoding="utf-8"))
    for endpoint in data["endpoints"].values():
        for model_id in endpoint["models"]:
            assert model_id in data["models"], model_id
        if endpoint["models"]:
            assert endpoint["default_model"] in endpoint["models"]
    for model in data["models"].values():
        assert model["status"] in ("active", "deprecated", "retired")
        if model.get("replacement"):
            assert model["replacement"] in data["models"]
        if model["status"] != "active":
            assert model.get("replacement") and model.get("retires_on")
    assert data["models"][data["latest"]]["status"] == "active"
