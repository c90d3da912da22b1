"""The whole animation library in the sidebar, in real Blender against the sandbox.

Tick actions found by search and category, animate a rigged character with all of them in
one request, and get one armature with one Blender action per clip, named after the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy
from sandbox_control import Sandbox

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]


def toggled_ids(layout: object) -> list[int]:
    return [op.values["action_id"] for op in layout.operators() if op.idname == "meshy.action_toggle"]  # type: ignore[attr-defined]


def test_two_ticked_actions_make_one_request_and_one_armature_with_two_actions(
    meshy: AddonEnv, sandbox: Sandbox
) -> None:
    bpy.ops.mesh.primitive_cube_add(size=1.0)
    bpy.context.active_object.name = "Hero"
    bpy.ops.meshy.rig_selected()
    rig_job = meshy.run_job()
    assert not bpy.ops.meshy.animate_selected.poll()  # nothing ticked yet

    bpy.ops.meshy.action_toggle(action_id=1)
    bpy.ops.meshy.action_toggle(action_id=13)
    assert bpy.ops.meshy.animate_selected() == {"FINISHED"}
    job = meshy.run_job()

    assert job.stages[0].body == {"rig_task_id": rig_job.final_task_id, "action_ids": [1, 13]}
    assert job.name == "Hero rigged 2 actions"
    assert len([r for r in sandbox.creates() if r["path"].endswith("/animations")]) == 1
    imported = meshy.imported(job)
    (armature,) = [obj for obj in imported if obj.type == "ARMATURE"]
    clips = {strip.action.name for track in armature.animation_data.nla_tracks for strip in track.strips}
    assert {"Walking_Woman", "Jump_Run"} <= clips
    for name in ("Walking_Woman", "Jump_Run"):
        assert bpy.data.actions[name].use_fake_user  # kept when the file is saved
    # One clip plays at a time: the first ticked is active, the tracks wait muted.
    assert armature.animation_data.action.name == "Walking_Woman"
    assert all(track.mute for track in armature.animation_data.nla_tracks)


def test_the_picker_searches_filters_and_counts_the_selection(meshy: AddonEnv) -> None:
    panels = meshy.module("blender.ui.panels")
    library = meshy.module("blender.ui.animate.actions").library()
    props = meshy.props
    props.action_search = "walk back"
    props.action_category = "WalkAndRun"
    layout = meshy.draw(panels.MESHY_PT_rig)
    listed = toggled_ids(layout)
    expected = [action.id for action in library.search("walk back", "WalkAndRun")]
    assert listed == expected[: props.action_rows]
    assert all(library.by_id[i].category == "WalkAndRun" for i in listed)
    assert "No action selected: tick one or more above" in layout.labels()

    bpy.ops.meshy.actions_more()
    assert (
        toggled_ids(meshy.draw(panels.MESHY_PT_rig)) == expected[: 2 * meshy.module("blender.ui.animate.actions").PAGE]
    )

    props.action_category = "Dancing"
    props.action_search = "hip hop"
    dances = toggled_ids(meshy.draw(panels.MESHY_PT_rig))
    assert dances and all("Hip_Hop" in library.by_id[i].name for i in dances)
    props.action_search = "no such move"
    assert "No action matches the search" in meshy.draw(panels.MESHY_PT_rig).labels()

    props.custom_action_id = 5000  # newer than this add-on's library: kept, sent as given
    bpy.ops.meshy.action_add_id()
    bpy.ops.meshy.action_toggle(action_id=dances[0])
    layout = meshy.draw(panels.MESHY_PT_rig)
    assert "2 selected (~6 credits)" in layout.labels()
    assert "Action 5000 (5000)" in layout.labels()
    buttons = {kwargs["text"] for kind, kwargs in layout.calls if kind == "operator"}
    assert "Animate with 2 actions (~6 credits)" in buttons


def test_the_frame_rate_post_process_is_sent_and_a_mismatch_is_named(meshy: AddonEnv) -> None:
    library = meshy.module("blender.ui.animate.actions")
    props = meshy.props
    props.animation_fps = "30"
    assert props.animation_options() == {"post_process": {"operation_type": "change_fps", "fps": 30}}
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = 24, 1.0
    assert "30 fps" in library.fps_notice(props, library.scene_fps(bpy.context.scene))
    bpy.context.scene.render.fps = 30
    assert library.fps_notice(props, library.scene_fps(bpy.context.scene)) == ""


def test_the_library_is_refreshed_from_meshy_and_kept_in_the_user_folder(meshy: AddonEnv) -> None:
    library = meshy.module("blender.ui.animate.actions")
    kept = meshy.module("blender.paths").user_dir() / "animations.json"
    try:
        assert bpy.ops.meshy.animation_library_refresh() == {"FINISHED"}
        call = meshy.wait_call(library.REFRESH_CALL)
        assert call.ok, call.error
        assert kept.is_file()
        assert len(library.library()) == len(call.result) >= 600
        assert library.library().updated > "2026-11-29"  # the refreshed copy, stamped when fetched
        assert [c.method for c in meshy.network if c.url.endswith("/animations/library")] == ["GET"]
    finally:
        kept.unlink(missing_ok=True)
        library.forget()


def test_re_running_a_library_animation_ticks_its_actions_again(meshy: AddonEnv) -> None:
    entry_module = meshy.module("library.entry")
    library_operators = meshy.module("blender.ui.library.operators")
    entry = entry_module.Entry(id="anim-1", kind="animation", name="Hero moves", options={"action_ids": [1, 13]})
    assert library_operators.fill_panel(bpy.context, entry) == "Rig & Animate"
    assert meshy.props.action_ids == "1,13"
    single = entry_module.Entry(id="anim-2", kind="animation", name="Hero bows", options={"action_id": 42})
    library_operators.fill_panel(bpy.context, single)
    assert meshy.props.action_ids == "42"


def test_a_refresh_that_fails_says_why_and_keeps_the_library(meshy: AddonEnv, sandbox: Sandbox) -> None:
    library = meshy.module("blender.ui.animate.actions")
    sandbox.fault("/animations/library$", "status", times=-1, status=404, message="Not Found")
    assert bpy.ops.meshy.animation_library_refresh() == {"FINISHED"}
    assert not meshy.wait_call(library.REFRESH_CALL).ok
    labels = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_rig).labels()
    assert any(label.startswith("Refresh failed:") for label in labels), labels
    assert len(library.library()) >= 600
