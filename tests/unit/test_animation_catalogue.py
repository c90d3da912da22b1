"""Meshy's animation library as data: the shipped catalogue, server answers, the refreshed copy, requests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from meshy_blender import cli_args
from meshy_blender.api import ServerError, TaskKind, ValidationError, animations, estimate_credits, validate
from meshy_blender.jobs import manifest, specs

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import build_animation_catalogue  # noqa: E402

SHIPPED = ROOT / "meshy_blender" / "api" / "data" / "animations.json"


def test_the_shipped_catalogue_holds_the_whole_library_with_categories() -> None:
    library = animations.bundled()
    assert len(library) >= 600
    assert library.categories() == ["BodyMovements", "DailyActions", "Dancing", "Fighting", "WalkAndRun"]
    assert all(action.name and action.sub_category for action in library.actions)
    assert all(action.preview_url.startswith("https://") for action in library.actions)
    assert library.name_of(1) == "Walking_Woman"
    assert library.name_of(13) == "Jump_Run"
    assert library.name_of(696) == "Walk_with_Walker_Support_inplace"
    assert library.name_of(9999) == "Action 9999"


def test_the_shipped_catalogue_is_what_the_script_makes_of_the_docs_table() -> None:
    table = build_animation_catalogue.DEFAULT_TABLE.read_text(encoding="utf-8")
    assert build_animation_catalogue.catalogue(table) == json.loads(SHIPPED.read_text(encoding="utf-8"))


def test_the_script_refuses_a_table_naming_an_id_twice() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        build_animation_catalogue.parse_table(
            "| 1 | Walk | WalkAndRun | Walking |\n| 1 | Run | WalkAndRun | Running |\n"
        )


def test_search_matches_every_word_within_a_category() -> None:
    library = animations.bundled()
    found = library.search("walk back", "WalkAndRun")
    assert found and all(action.category == "WalkAndRun" for action in found)
    for action in found:  # a word may match the name or the sub-category ("Walking")
        assert "back" in action.name.lower() and "walk" in f"{action.name} {action.sub_category}".lower()
    assert "Walk_Backward" in {action.name for action in found}
    assert 13 in {action.id for action in library.search("13")}
    assert library.search("no such dance at all") == []


def test_a_library_answer_is_read_without_trusting_it() -> None:
    answer = {
        "result": [
            {"action_id": 7, "name": "Jump\x1b[31m", "category": "BodyMovements", "preview_url": "https://cdn/x.gif"},
            {"action_id": True, "name": "a bool is no id"},
            {"action_id": -1, "name": "negative"},
            {"action_id": 8, "name": ""},
            {"action_id": 9, "name": "Plain", "preview_url": "http://insecure/x.gif"},
            "not an object",
            {"id": 10, "name": "N" * 500, "sub_category": 3},
        ]
    }
    actions = animations.parse_library(answer)
    assert [action.id for action in actions] == [7, 9, 10]
    assert actions[0].name == "Jump" and actions[0].preview_url == "https://cdn/x.gif"
    assert actions[1].preview_url == ""
    assert len(actions[2].name) <= 120 and actions[2].sub_category == ""


@pytest.mark.parametrize("answer", [{"result": "nope"}, 42, [], [{"name": "no id"}]])
def test_an_unusable_library_answer_is_refused_in_words(answer: object) -> None:
    with pytest.raises(ServerError, match="animation library"):
        animations.parse_library(answer)


def test_an_answer_far_longer_than_any_library_is_refused() -> None:
    with pytest.raises(ServerError, match="more than any library"):
        animations.parse_library([{"action_id": 1, "name": "x"}] * (animations.MAX_ACTIONS + 1))


def test_a_refreshed_copy_is_preferred_while_it_is_newer(tmp_path: Path) -> None:
    fresh = [animations.Action(1, "Walking_Woman", "WalkAndRun", "Walking"), animations.Action(900, "Moonwalk", "", "")]
    animations.save(fresh, tmp_path, now=4102444800)  # 2100-01-01: newer than the shipped library
    assert animations.load(tmp_path).name_of(900) == "Moonwalk"
    animations.save(fresh, tmp_path, now=0)  # 1970: older than the shipped library
    assert len(animations.load(tmp_path)) == len(animations.bundled())
    (tmp_path / animations.REFRESHED_FILE).write_text("{half a fi", encoding="utf-8")
    assert len(animations.load(tmp_path)) == len(animations.bundled())
    assert [p.name for p in tmp_path.iterdir()] == [animations.REFRESHED_FILE]  # no temporary file left


def test_several_actions_go_as_action_ids_and_cost_per_action() -> None:
    values = cli_args.request_values(
        cli_args.build_parser().parse_args(
            [
                "animate",
                "--rig-task-id",
                "rig-1",
                "--action-id",
                "1",
                "--action-id",
                "13",
                "--fps",
                "30",
                "-o",
                "a.blend",
            ]
        )
    )
    stage = specs.build_job("animate", values).stages[0]
    assert stage.body == {
        "rig_task_id": "rig-1",
        "action_ids": [1, 13],
        "post_process": {"operation_type": "change_fps", "fps": 30},
    }
    assert stage.estimated_credits == 2 * estimate_credits(TaskKind.ANIMATION, {"action_id": 1})
    one = specs.build_job("animate", {"rig_task_id": "rig-1", "action_id": [5]}).stages[0]
    assert one.body == {"rig_task_id": "rig-1", "action_id": 5}


def test_an_id_unknown_to_the_library_is_sent_as_given_but_not_a_negative_or_a_word() -> None:
    assert validate(TaskKind.ANIMATION, {"rig_task_id": "r", "action_ids": [1, 5000]})["action_ids"] == [1, 5000]
    for bad in ([1, -2], ["walk"], [], "1,2", [True]):
        with pytest.raises(ValidationError) as refused:
            validate(TaskKind.ANIMATION, {"rig_task_id": "r", "action_ids": bad})
        assert refused.value.field == "action_ids"
    with pytest.raises(ValidationError, match="not both"):
        validate(TaskKind.ANIMATION, {"rig_task_id": "r", "action_id": 1, "action_ids": [2, 3]})


def test_a_manifest_row_may_name_several_actions(tmp_path: Path) -> None:
    rows = tmp_path / "assets.jsonl"
    rows.write_text('{"name": "moves", "kind": "animate", "rig_task_id": "rig-1", "action_id": [1, 13]}\n')
    (asset,) = manifest.load(rows)
    assert asset.job().stages[0].body == {"rig_task_id": "rig-1", "action_ids": [1, 13]}
    table = tmp_path / "assets.csv"
    table.write_text("name,kind,rig_task_id,action_id\nmoves,animate,rig-1,1;13\n")
    (asset,) = manifest.load(table)
    assert asset.job().stages[0].body == {"rig_task_id": "rig-1", "action_ids": [1, 13]}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "moves", "kind": "animate", "rig_task_id": "rig-1", "action_id": [1, "jump"]}\n')
    with pytest.raises(ValidationError, match="whole number"):
        manifest.load(bad)
