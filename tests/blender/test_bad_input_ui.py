"""Bad input in the panels: every refusal says what is wrong, and nothing reaches Meshy.

Each row sets the panel's inputs (scene properties, add-on preferences, the selection),
presses the button through ``bpy.ops`` and expects a specific message: either the
button is disabled and its poll message says why (``poll``), or the click is refused
with an error report (``run``). Afterwards the sandbox has seen no request at all, no
client sent anything, no job was added and no input file was left behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
from api_samples import write_bad_images
from sandbox_control import Sandbox

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]

#: Sets up the inputs; returns the operator's properties (e.g. a job id).
Setup = Callable[["AddonEnv", Path], dict[str, Any]]

LONG = "x" * 601


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sample inputs, good and bad; ``missing.png`` does not exist."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    write_bad_images(folder)
    return folder


# -- building blocks of the table ----------------------------------------------------------


def props(values: dict[str, Any]) -> Setup:
    """Set scene properties (dotted names reach nested groups); "{files}" in a value is the samples folder."""

    def setup(env: AddonEnv, files: Path) -> dict[str, Any]:
        for dotted, value in values.items():
            *path, name = dotted.split(".")
            target = env.props
            for part in path:
                target = getattr(target, part)
            setattr(target, name, value.format(files=files) if isinstance(value, str) else value)
        return {}

    return setup


def prompt(text: str, **extra: Any) -> Setup:
    return props({"prompt": text, **extra})


def images(*names: str) -> Setup:
    def setup(env: AddonEnv, files: Path) -> dict[str, Any]:
        for name in names:
            env.props.images.add().filepath = str(files / name)
        return {}

    return setup


def blender_image_without_pixels(env: AddonEnv, files: Path) -> dict[str, Any]:
    image = bpy.data.images.new("lost photo", 4, 4)
    image.source = "FILE"
    image.filepath = str(files / "missing.png")
    env.props.images.add().image = image
    return {}


def huge_blender_image(env: AddonEnv, files: Path) -> dict[str, Any]:
    """An unsaved 8000 × 8000 image: encoding it held the main thread for seconds and took ~2 GB."""
    env.props.images.add().image = bpy.data.images.new("Huge painting", 8000, 8000)
    return {}


def empty_image_slots(env: AddonEnv, files: Path) -> dict[str, Any]:
    env.props.images.add()
    env.props.images.add()
    return {}


def select(kind: str) -> Setup:
    """Select one new object: "cube", "camera", "points" (a mesh without faces) or "dense" (320,000 triangles)."""

    def setup(env: AddonEnv, files: Path) -> dict[str, Any]:
        if kind == "cube":
            bpy.ops.mesh.primitive_cube_add()
        elif kind == "camera":
            bpy.ops.object.camera_add()
        elif kind == "dense":
            bpy.ops.mesh.primitive_grid_add(x_subdivisions=400, y_subdivisions=400)
        else:
            mesh = bpy.data.meshes.new(kind)
            mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [(0, 1), (1, 2)], [])
            obj = bpy.data.objects.new(kind, mesh)
            bpy.context.scene.collection.objects.link(obj)
            bpy.context.view_layer.objects.active = obj
            obj.select_set(True)
        return {}

    return setup


def prefs(**values: Any) -> Setup:
    def setup(env: AddonEnv, files: Path) -> dict[str, Any]:
        for name, value in values.items():
            setattr(env.prefs, name, value)
        return {}

    return setup


def offline(env: AddonEnv, files: Path) -> dict[str, Any]:
    bpy.context.preferences.system.use_online_access = False
    return {}


def finished_image_job(env: AddonEnv, files: Path) -> dict[str, Any]:
    """A finished Image to 3D job in the list (neither a preview nor a rig); its id for the job buttons."""
    model = env.module("jobs.model")
    task_kind = env.module("api.tasks").TaskKind.IMAGE_TO_3D
    stage = model.Stage(kind=task_kind, body={}, task_id="finished-image-task", status="SUCCEEDED", progress=100)
    job = model.Job(
        name="statue", kind="image", stages=[stage], state=model.JobState.READY, files={"model": str(files / "x.glb")}
    )
    env.module("blender.ui.operators").manager(bpy.context).add_ready(job)
    return {"job_id": job.id}


def both(*setups: Setup) -> Setup:
    def setup(env: AddonEnv, files: Path) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for step in setups:
            kwargs.update(step(env, files))
        return kwargs

    return setup


@dataclass(frozen=True)
class Case:
    setup: Setup
    operator: str  # the name in bpy.ops.meshy
    stage: str  # "poll": the button is disabled; "run": the click is refused
    message: str


def case(setup: Setup, operator: str, stage: str, message: str, id: str) -> Any:
    return pytest.param(Case(setup, operator, stage, message), id=id)


STYLED = {"style_prompt": "weathered bronze"}

CASES = [
    # Text to 3D
    case(prompt(""), "generate_text", "poll", "Write a prompt", "empty prompt"),
    case(prompt("   \t "), "generate_text", "poll", "Write a prompt", "whitespace-only prompt"),
    case(prompt(LONG), "generate_text", "run", "'prompt' is 601 characters long; Meshy accepts at most 600",
         "601-char prompt"),
    case(prompt("a chair", **{"refine": True, "text_texture.texture_prompt": LONG}), "generate_text", "run",
         "'texture_prompt' is 601 characters", "601-char texture prompt"),
    case(prompt("a chair", negative_prompt=LONG, **{"text_mesh.ai_model": "CUSTOM", "text_mesh.custom_model": "m-9"}),
         "generate_text", "run", "'negative_prompt' is 601 characters", "601-char negative prompt"),
    case(prompt("a chair", **{"text_mesh.ai_model": "CUSTOM", "text_mesh.custom_model": "meshy-5"}), "generate_text",
         "poll", "Meshy retired Meshy-5 ('meshy-5') on 2026-10-10", "retired model typed in"),
    case(prompt("a chair", **{"text_mesh.ai_model": "meshy-t2", "text_mesh.target_polycount": 20_000}),
         "generate_text", "run", "'target_polycount' must be from 100 to 15,000", "over Smart Topology's budget"),
    case(prompt("a chair", **{"refine": True, "text_texture.texture_image": "{files}/notes.png"}), "generate_text",
         "run", "'notes.png' is not a PNG or JPEG", "texture image that is text"),
    case(prompt("a chair", **{"refine": True, "text_texture.texture_image": "{files}/missing.png"}), "generate_text",
         "run", "Image file not found", "missing texture image"),
    # Image / multi-image to 3D
    case(props({}), "generate_image", "poll", "Add an image of the object first", "no image"),
    case(empty_image_slots, "generate_image", "poll", "Add an image of the object first", "empty image slots"),
    case(images(*["good.png"] * 5), "generate_image", "run", "1 to 4 images", "5 images"),
    case(images("notes.png"), "generate_image", "run", "'notes.png' is not a PNG or JPEG", "text file named .png"),
    case(images("good.png", "notes.png"), "generate_image", "run", "'notes.png' is not a PNG or JPEG",
         "second view is a text file"),
    case(images("cut.png"), "generate_image", "run", "damaged PNG image: its header is missing or cut short",
         "truncated PNG header"),
    case(images("huge.png"), "generate_image", "run", "is 25.0 MB; images sent to Meshy may be at most 20.0 MB",
         "25 MB image"),
    case(images("missing.png"), "generate_image", "run", "Image file not found", "missing image file"),
    case(images("folder.png"), "generate_image", "run", "is a folder, not a file", "folder as image"),
    case(blender_image_without_pixels, "generate_image", "run", "has no pixels", "Blender image without pixels"),
    case(both(images("good.png"), huge_blender_image), "generate_image", "run",
         "Image 'Huge painting' is 8000 × 8000 pixels; Meshy needs at most 4096", "8000 x 8000 Blender image"),
    case(both(images("good.png"), props({"should_texture": True, "image_texture.texture_image": "{files}/cut.png"})),
         "generate_image", "run", "'cut.png' is a damaged PNG", "bad texture image for image to 3D"),
    case(both(images("good.png"), props({"should_texture": True, "image_texture.texture_prompt": LONG})),
         "generate_image", "run", "'texture_prompt' is 601 characters", "601-char texture prompt for image to 3D"),
    # Rig
    case(props({}), "rig_selected", "poll", "Select the mesh to rig", "rig with nothing selected"),
    case(select("camera"), "rig_selected", "poll", "Select the mesh to rig", "rig a camera"),
    case(select("points"), "rig_selected", "run", "'points' has no faces: select a mesh with faces to rig",
         "rig a mesh without faces"),
    case(select("dense"), "rig_selected", "run", "faces; Meshy rigs models of at most 300,000",
         "rig 320,000 triangles"),
    # Animate
    case(props({}), "animate_selected", "poll", "Select a character rigged by Meshy",
         "animate with nothing selected"),
    case(select("cube"), "animate_selected", "poll", "Select a character rigged by Meshy",
         "animate a mesh without rig"),
    # Retexture
    case(props(STYLED), "retexture_selected", "poll", "Select the mesh to retexture",
         "retexture with nothing selected"),
    case(select("cube"), "retexture_selected", "poll", "Describe the new style", "retexture without a style"),
    case(both(select("cube"), props({"style_prompt": "   "})), "retexture_selected", "poll", "Describe the new style",
         "retexture with a blank style"),
    case(both(select("cube"), props({"style_prompt": LONG})), "retexture_selected", "run",
         "'text_style_prompt' is 601 characters", "601-char style prompt"),
    case(both(select("cube"), props({"style_image": "{files}/notes.png"})), "retexture_selected", "run",
         "'notes.png' is not a PNG or JPEG", "style image that is text"),
    case(both(select("cube"), props({"style_image": "{files}/missing.png"})), "retexture_selected", "run",
         "Image file not found", "missing style image"),
    case(both(select("points"), props(STYLED)), "retexture_selected", "run",
         "'points' has no faces: select a mesh with faces to retexture", "retexture a mesh without faces"),
    # Job buttons: refine and animate need the right kind of finished job
    case(both(finished_image_job, lambda env, files: {"job_id": "no-such-job"}), "job_refine", "run",
         "That job is no longer in the list", "refine an unknown job"),
    case(finished_image_job, "job_refine", "run", "'statue' is not a finished preview", "refine without a preview"),
    case(finished_image_job, "job_animate", "run", "'statue' is not a finished rig", "animate a job without rig"),
    # Key, online access, server address
    case(both(prompt("a chair"), prefs(api_key="")), "generate_text", "poll", "No Meshy API key", "missing key"),
    case(both(select("cube"), prefs(api_key="  ")), "rig_selected", "poll", "No Meshy API key", "blank key (rig)"),
    case(prefs(api_key=""), "refresh_balance", "poll", "No Meshy API key", "missing key (balance)"),
    case(both(prompt("a chair"), offline), "generate_text", "poll", "Allow Online Access", "offline"),
    case(both(select("cube"), props(STYLED), offline), "retexture_selected", "poll", "Allow Online Access",
         "offline (retexture)"),
    case(both(prompt("a chair"), prefs(base_url="http://api.meshy.example.com")), "generate_text", "run",
         "must use HTTPS; plain HTTP is allowed only to this computer", "plain HTTP server"),
    case(both(select("cube"), prefs(base_url="http://192.168.1.20:8080")), "rig_selected", "run",
         "must use HTTPS", "plain HTTP server on the LAN (before exporting)"),
    case(prefs(base_url="http://10.0.0.1"), "test_connection", "run", "must use HTTPS", "plain HTTP server (test)"),
    case(both(prompt("a chair"), prefs(base_url="ftp://meshy.example.com")), "generate_text", "run",
         "is not a web address (http:// or https://)", "not a web address"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def _key_from_the_preferences_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHY_API_KEY", raising=False)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_with_a_specific_message_and_nothing_is_sent(
    meshy: AddonEnv, sandbox: Sandbox, files: Path, case: Case
) -> None:
    kwargs = case.setup(meshy, files)
    jobs_before = {job.id for job in meshy.jobs()}
    button = getattr(bpy.ops.meshy, case.operator)

    disabled = case.stage == "poll"
    assert button.poll() is not disabled, "the button should be disabled" if disabled else "enabled"
    with pytest.raises(RuntimeError, match=re.escape(case.message)):
        button(**kwargs)

    assert sandbox.requests() == []
    assert meshy.network == []
    assert {job.id for job in meshy.jobs()} == jobs_before
    downloads = Path(meshy.prefs.download_dir)
    assert not downloads.exists() or not [path for path in downloads.rglob("*") if path.is_file()]


def test_out_of_range_numbers_and_unknown_choices_cannot_be_entered(meshy: AddonEnv) -> None:
    """The panel's fields hold only what Meshy accepts: numbers are clamped, unknown choices refused."""
    mesh = meshy.props.text_mesh
    mesh.target_polycount = 99
    assert mesh.target_polycount == 100
    mesh.target_polycount = 300_001
    assert mesh.target_polycount == 300_000
    meshy.props.height_meters = 0.0
    assert meshy.props.height_meters > 0
    meshy.props.custom_action_id = -1
    assert meshy.props.custom_action_id == 0
    for group, name, value in (
        (mesh, "topology", "hexagon"),
        (mesh, "symmetry_mode", "maybe"),
        (mesh, "pose_mode", "z-pose"),
        (mesh, "ai_model", "meshy-9"),  # any id goes through Custom…, not the menu
        (mesh, "ai_model", "meshy-5"),  # retired: not offered
        (mesh, "geometry_resolution", "16k"),
    ):
        with pytest.raises(TypeError, match="not found in"):
            setattr(group, name, value)
