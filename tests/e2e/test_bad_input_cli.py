"""Bad input to the command and in batch manifests: exit code 2, a specific message, nothing sent.

Each row runs ``python -m meshy_blender …`` in a folder holding sample inputs, good and
bad. The command must exit with 2 and say what is wrong (on stderr, or as the JSON
``error`` event with ``--json``); the sandbox must have seen no request at all and the
folder must hold nothing new (no output, no ledger, no half-made folder).
A manifest's rows are all checked in one run, which reports every problem by line.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_samples import write_bad_images
from cli_harness import TASK_SECONDS, Cli, CliResult
from sandbox_control import Sandbox

LONG = "x" * 601
#: A GLB whose header is sound (what the command checks); it is never sent.
GOOD_GLB = b"glTF" + struct.pack("<II", 2, 20) + bytes(8)
OUT = ("-o", "out.glb")


def write_samples(folder: Path) -> None:
    """Sample inputs; ``missing.png`` and ``missing.glb`` do not exist."""
    write_bad_images(folder)
    (folder / "good.glb").write_bytes(GOOD_GLB)
    (folder / "notes.glb").write_text("not a model, whatever the name says")
    (folder / "model.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    (folder / "empty.jsonl").write_text("\n# nothing but a comment\n")


def error_message(result: CliResult, argv: tuple[str, ...]) -> str:
    """What the command said about the error: the JSON error event with --json, else stderr."""
    if "--json" not in argv:
        return result.stderr
    error = result.event("error")
    assert error["exit_code"] == 2
    return str(error["message"])


def assert_refused(result: CliResult, argv: tuple[str, ...], message: str, sandbox: Sandbox) -> None:
    assert result.code == 2, (result.stdout, result.stderr)
    assert message in error_message(result, argv)
    assert sandbox.requests() == []


def listing(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.fixture
def samples(cli: Cli) -> Path:
    """The command's folder, holding the sample files."""
    write_samples(cli.cwd)
    return cli.cwd


def row(*argv: str, message: str, id: str) -> Any:
    return pytest.param(argv, message, id=id)


CASES = [
    # text-to-3d
    row("text-to-3d", "--prompt", "", *OUT, message="'prompt' is empty", id="empty prompt"),
    row("text-to-3d", "--prompt", "  \t ", *OUT, "--json", message="'prompt' is empty", id="whitespace prompt"),
    row("text-to-3d", "--prompt", LONG, *OUT, message="'prompt' is 601 characters long; Meshy accepts at most 600",
        id="601-char prompt"),
    row("text-to-3d", "--prompt", "a", "--refine", "--texture-prompt", LONG, *OUT,
        message="'texture_prompt' is 601 characters", id="601-char texture prompt"),
    row("text-to-3d", "--prompt", "a", "--negative-prompt", LONG, *OUT,
        message="'negative_prompt' is 601 characters", id="601-char negative prompt"),
    row("text-to-3d", "--prompt", "a", "--target-polycount", "99", *OUT,
        message="'target_polycount' must be a whole number from 100 to 300,000 (got 99)", id="polycount 99"),
    row("text-to-3d", "--prompt", "a", "--target-polycount", "300001", *OUT, "--json",
        message="'target_polycount' must be a whole number from 100 to 300,000 (got 300001)", id="polycount 300001"),
    row("text-to-3d", "--prompt", "a", "--target-polycount", "many", *OUT,
        message="argument --target-polycount: invalid int value: 'many'", id="polycount not a number"),
    row("text-to-3d", "--prompt", "a", "--topology", "hexagon", *OUT,
        message="argument --topology: invalid choice: 'hexagon'", id="unknown topology"),
    row("text-to-3d", "--prompt", "a", "--symmetry-mode", "maybe", *OUT,
        message="argument --symmetry-mode: invalid choice: 'maybe'", id="unknown symmetry"),
    row("text-to-3d", "--prompt", "a", "--pose-mode", "z-pose", *OUT,
        message="argument --pose-mode: invalid choice: 'z-pose'", id="unknown pose"),
    row("text-to-3d", "--prompt", "a", "--ai-model", "meshy-5", *OUT,
        message="Meshy retired Meshy-5 ('meshy-5') on 2026-10-10: requests with it fail; use 'meshy-6-lite' instead",
        id="retired ai model"),
    row("text-to-3d", "--prompt", "a", "--model-type", "highpoly", *OUT,
        message="argument --model-type: invalid choice: 'highpoly'", id="unknown model type"),
    row("text-to-3d", "--prompt", "a", "--hd-texture", *OUT,
        message="'hd_texture' applies to the refine task: ask for refine too", id="refine option without refine"),
    row("text-to-3d", "--prompt", "a", "--seed", "-1", *OUT,
        message="'seed' must be a whole number of at least 0 (got -1)", id="negative seed"),
    row("text-to-3d", "--prompt", "a", "--target-formats", "obj", *OUT,
        message="'target_formats' must include glb", id="formats without glb"),
    row("text-to-3d", "--prompt", "a", "-o", "out.obj",
        message="-o must name a .blend or .glb file (got out.obj)", id="unsupported output"),
    row("text-to-3d", "--prompt", "a", "--frobnicate", *OUT,
        message="unrecognized arguments: --frobnicate", id="unknown option"),
    row("text-to-3d", "--prompt", "a", "--timeout", "0", *OUT,
        message="argument --timeout: must be a positive number of seconds", id="timeout 0"),
    # image-to-3d, multi-image-to-3d
    row("multi-image-to-3d", *OUT, message="Multi-image to 3D needs 1 to 4 images (IMAGE …) or --input-task-id",
        id="0 images"),
    row("image-to-3d", "good.png", "--input-task-id", "t-1", *OUT,
        message="Give the image files or --input-task-id", id="image and input task"),
    # concept images
    row("text-to-image", "--prompt", "a", "--generate-multi-view", "--aspect-ratio", "16:9", "-o", "pics",
        message="'aspect_ratio' cannot go with 'generate_multi_view'", id="ratio with four views"),
    row("text-to-image", "--prompt", "a", "-o", "pics.blend",
        message="-o names the folder the pictures go into", id="pictures into a .blend"),
    row("multi-image-to-3d", *["good.png"] * 5, *OUT,
        message="Multi-image to 3D needs 1 to 4 images of the same object; got 5", id="5 images"),
    row("image-to-3d", "notes.png", *OUT,
        message="'notes.png' is not a PNG or JPEG image", id="text file named .png"),
    row("image-to-3d", "cut.png", *OUT, "--json",
        message="'cut.png' is a damaged PNG image: its header is missing or cut short", id="truncated PNG header"),
    row("image-to-3d", "huge.png", *OUT,
        message="'huge.png' is 25.0 MB; images sent to Meshy may be at most 20.0 MB", id="25 MB image"),
    row("image-to-3d", "missing.png", *OUT, message="Image file not found", id="missing image"),
    row("image-to-3d", "folder.png", *OUT, message="is a folder, not a file", id="folder as image"),
    row("multi-image-to-3d", "good.png", "notes.png", *OUT,
        message="'notes.png' is not a PNG or JPEG image", id="second view is a text file"),
    row("image-to-3d", "good.png", "--texture-image-url", "cut.png", *OUT,
        message="'cut.png' is a damaged PNG", id="bad texture image"),
    row("image-to-3d", "ftp://example.com/chair.png", *OUT,
        message="must be an http(s) URL, a data URI or a local file", id="image URL that is not http(s)"),
    # rig
    row("rig", "--model", "model.obj", *OUT,
        message="Rigging needs a GLB model (binary glTF 2.0); 'model.obj' is not one", id="OBJ model"),
    row("rig", "--model", "notes.glb", *OUT, "--json",
        message="Rigging needs a GLB model (binary glTF 2.0); 'notes.glb' is not one", id="text file named .glb"),
    row("rig", "--model", "missing.glb", *OUT, message="Model file not found", id="missing model"),
    row("rig", "--model", "good.glb", "--height-meters", "0", *OUT,
        message="'height_meters' must be a number greater than 0 (got 0.0)", id="height 0"),
    row("rig", "--model", "good.glb", "--height-meters", "-1.5", *OUT,
        message="'height_meters' must be a number greater than 0 (got -1.5)", id="negative height"),
    row("rig", *OUT, message="one of the arguments --model --task-id is required", id="rig without model"),
    row("rig", "--model", "good.glb", "--task-id", "t1", *OUT,
        message="argument --task-id: not allowed with argument --model", id="rig with two models"),
    # animate
    row("animate", "--rig-task-id", "r1", "--action-id", "-1", *OUT,
        message="'action_id' must be a whole number of at least 0 (got -1)", id="negative action id"),
    row("animate", "--rig-task-id", "r1", "--action-id", "walk", *OUT,
        message="argument --action-id: invalid int value: 'walk'", id="non-integer action id"),
    row("animate", "--action-id", "1", *OUT,
        message="the following arguments are required: --rig-task-id", id="animate without rig"),
    row("animate", "--rig-task-id", " ", "--action-id", "1", *OUT,
        message="'rig_task_id' must be the id of a Meshy task", id="blank rig task id"),
    row("animate", "--rig-task-id", "r1", "--action-id", "1", "--fps", "17", *OUT,
        message="argument --fps: invalid choice: 17", id="unknown fps"),
    # retexture
    row("retexture", "--model", "good.glb", *OUT,
        message="one of the arguments --text-style-prompt --image-style-url is required", id="retexture without style"),
    row("retexture", "--text-style-prompt", "gold", *OUT,
        message="one of the arguments --model --task-id is required", id="retexture without model"),
    row("retexture", "--model", "good.glb", "--text-style-prompt", "", *OUT,
        message="Retexture needs a style: 'text_style_prompt' or 'image_style_url'", id="empty style"),
    row("retexture", "--model", "good.glb", "--text-style-prompt", LONG, *OUT,
        message="'text_style_prompt' is 601 characters", id="601-char style"),
    row("retexture", "--model", "good.glb", "--image-style-url", "notes.png", *OUT,
        message="'notes.png' is not a PNG or JPEG image", id="style image that is text"),
    row("retexture", "--model", "model.obj", "--text-style-prompt", "gold", *OUT,
        message="Retexture needs a GLB model", id="retexture an OBJ"),
    # connection
    row("text-to-3d", "--prompt", "a", "-o", "sub/out.blend", "--base-url", "http://api.meshy.example.com",
        message="must use HTTPS; plain HTTP is allowed only to this computer", id="plain HTTP server"),
    row("balance", "--base-url", "http://10.0.0.5:8080", "--json", message="must use HTTPS", id="plain HTTP balance"),
    row("tasks", "list", "--base-url", "ftp://api.meshy.example.com",
        message="is not a web address (http:// or https://)", id="not a web address"),
    # batch and tasks
    row("batch", "empty.jsonl", "--out-dir", "out", message="no assets: the manifest is empty", id="empty manifest"),
    row("batch", "missing.jsonl", "--out-dir", "out", message="Cannot read the manifest", id="missing manifest"),
    row("batch", "empty.jsonl", "--out-dir", "out", "--concurrency", "0",
        message="argument --concurrency: must be at least 1", id="concurrency 0"),
    row("batch", "empty.jsonl", "--out-dir", "out", "--part-size", "-1",
        message="argument --part-size: must be a number of assets, or 0 for none", id="part size -1"),
    row("tasks", "get", "t1", "--kind", "sculpting",
        message="argument --kind: invalid choice: 'sculpting'", id="tasks get unknown kind"),
    row("tasks", "list", "--page", "0", message="argument --page: must be at least 1", id="tasks page 0"),
    row("tasks", "purge", message="invalid choice: 'purge'", id="unknown tasks action"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), CASES)
def test_bad_input_exits_2_with_a_specific_message_and_sends_nothing(
    cli: Cli, sandbox: Sandbox, samples: Path, argv: tuple[str, ...], message: str
) -> None:
    before = listing(samples)
    assert_refused(cli(*argv), argv, message, sandbox)
    assert listing(samples) == before  # no output, ledger or folder made


@pytest.mark.parametrize(
    ("argv", "base_url", "message"),
    [
        (
            ("text-to-3d", "--prompt", "a chair", *OUT),
            None,
            "No Meshy API key: pass --api-key or set the MESHY_API_KEY",
        ),
        (("balance", "--api-key", "  ", "--json"), None, "No Meshy API key"),
        (("tasks", "get", "t1"), None, "No Meshy API key"),
        (("balance",), "http://meshy.example.com", "must use HTTPS"),
    ],
    ids=["no key (generate)", "blank --api-key", "no key (tasks)", "plain HTTP in MESHY_BASE_URL"],
)
def test_missing_key_or_insecure_server_from_the_environment_exits_2(
    cli: Cli, sandbox: Sandbox, argv: tuple[str, ...], base_url: str | None, message: str
) -> None:
    key = "msy_sandbox_key_never_used_000000" if base_url else None
    before = listing(cli.cwd)
    assert_refused(cli(*argv, key=key, base_url=base_url), argv, message, sandbox)
    assert listing(cli.cwd) == before


# -- manifests: every bad row reported at once, by line ------------------------------------

GOOD_ROW = {"name": "chair", "kind": "text-to-3d", "prompt": "a chair"}
TEXT = {"kind": "text-to-3d", "prompt": "a stool"}


def bad(entry: dict[str, Any] | str, message: str, id: str) -> Any:
    """A manifest row (a dict, or a raw line) and what the command must say about it."""
    return pytest.param(entry if isinstance(entry, str) else json.dumps(entry), message, id=id)


#: JSON Lines rows, written after GOOD_ROW (line 1): the first is line 2.
MANIFEST_ROWS = [
    bad({**GOOD_ROW, "name": "Chair"}, "name 'Chair' is already used on line 1", "duplicate name"),
    bad({**TEXT, "name": "a", "colour": "red"}, "'colour' does not apply to text-to-3d", "unknown key"),
    bad({**TEXT, "name": "b", "topology": "hexagon"}, "'topology' must be one of 'quad', 'triangle' (got 'hexagon')",
        "unknown topology"),
    bad({**TEXT, "name": "c", "symmetry_mode": "maybe"}, "'symmetry_mode' must be one of", "unknown symmetry"),
    bad({**TEXT, "name": "d", "pose_mode": "z-pose"}, "'pose_mode' must be one of", "unknown pose"),
    bad({**TEXT, "name": "e", "ai_model": "meshy-4"}, "Meshy retired Meshy-4 ('meshy-4')", "retired model"),
    bad({**TEXT, "name": "f", "model_type": "highpoly"}, "'model_type' must be one of", "unknown model type"),
    bad({**TEXT, "name": "g", "target_polycount": 99}, "'target_polycount' must be a whole number from 100 to 300,000",
        "polycount 99"),
    bad({**TEXT, "name": "h", "target_polycount": 300_001}, "300,000 (got 300001)", "polycount 300001"),
    bad({**TEXT, "name": "i", "target_polycount": "many"}, "'target_polycount' must be a whole number (got 'many')",
        "polycount not a number"),
    bad({**TEXT, "name": "j", "kind": "sculpt"}, "'kind' must be one of text-to-3d", "unknown kind"),
    bad({**TEXT, "name": "k", "refine": "yes"}, "'refine' must be true or false (got 'yes')", "refine not a boolean"),
    bad({**TEXT, "name": "l", "prompt": " "}, "'prompt' is empty", "blank prompt"),
    bad({**TEXT, "name": "m", "prompt": "x" * 601}, "'prompt' is 601 characters", "601-char prompt"),
    bad({**TEXT, "name": "n", "hd_texture": True}, "applies to the refine task", "refine option without refine"),
    bad({**TEXT, "name": "../escape"}, "it becomes a file name", "name climbing out of the folder"),
    bad({**TEXT, "name": "sub/dir"}, "it becomes a file name", "name with a slash"),
    bad({**TEXT, "name": "back\\slash"}, "it becomes a file name", "name with a backslash"),
    bad(TEXT, "every row needs a 'name'", "no name"),
    bad('{"name": "o", "kind": "text-to-3d",', "not valid JSON", "bad JSON line"),
    bad('["not", "an", "object"]', "each line must be a JSON object", "JSON line that is not an object"),
    bad({"name": "p", "kind": "image-to-3d", "images": ["notes.png"]}, "'notes.png' is not a PNG or JPEG",
        "text file named .png"),
    bad({"name": "q", "kind": "image-to-3d", "images": ["good.png", "good.png"]}, "use multi-image-to-3d",
        "two images for image-to-3d"),
    bad({"name": "r", "kind": "multi-image-to-3d", "images": []}, "Multi-image to 3D needs 1 to 4 images",
        "0 images"),
    bad({"name": "s", "kind": "multi-image-to-3d", "images": ["good.png"] * 5},
        "1 to 4 images of the same object; got 5", "5 images"),
    bad({"name": "t", "kind": "rig", "model": "model.obj"}, "Rigging needs a GLB model", "OBJ model"),
    bad({"name": "u", "kind": "rig", "model": "good.glb", "height_meters": 0},
        "'height_meters' must be a number greater than 0", "height 0"),
    bad({"name": "v", "kind": "animate", "rig_of": "nobody", "action_id": 1}, "'rig_of' must name a rig row",
        "rig_of an unknown row"),
    bad({"name": "w", "kind": "animate", "rig_task_id": "r1", "action_id": -1}, "'action_id' must be a whole number",
        "negative action id"),
    bad({"name": "x", "kind": "animate", "rig_task_id": "r1", "action_id": 1.5}, "'action_id' must be a whole number",
        "non-integer action id"),
    bad({"name": "y", "kind": "retexture", "model": "good.glb"}, "Retexture needs a style", "retexture without style"),
    bad({"name": "z", "kind": "retexture", "text_style_prompt": "gold"}, "Retexture needs exactly one model",
        "retexture without model"),
]  # fmt: skip
CSV_HEADER = "name,kind,prompt,refine,target_polycount"
#: CSV rows, written after the header (line 1) and a good row (line 2): the first is line 3.
CSV_ROWS = [
    bad("stool,text-to-3d,a stool,maybe,", "'refine' must be true or false (got 'maybe')", "bad CSV boolean"),
    bad("table,text-to-3d,a table,true,lots", "'target_polycount' must be a whole number (got 'lots')",
        "bad CSV number"),
    bad("lamp,text-to-3d,a lamp,true,100,extra", "more cells than columns in the header", "extra CSV cell"),
    bad("CHAIR,text-to-3d,a chair,false,", "name 'CHAIR' is already used on line 2", "duplicate CSV name"),
]  # fmt: skip


@dataclass(frozen=True)
class ManifestRun:
    problems: list[str]  # "line N: …", one per bad row
    requests: list[dict[str, Any]]  # what had reached the sandbox by the end of the run
    out_dir_made: bool


def _lines(rows: list[Any]) -> list[str]:
    return [row.values[0] for row in rows]


def _check(cli: Cli, sandbox: Sandbox, manifest: str) -> ManifestRun:
    result = cli("batch", manifest, "--out-dir", "out", "--json")
    assert result.code == 2, result.stderr
    error = result.event("error")
    assert error["exit_code"] == 2 and "nothing was sent" in error["message"]
    problems = [line.strip() for line in error["message"].splitlines()[1:]]
    return ManifestRun(problems, sandbox.requests(), (cli.cwd / "out").exists())


@pytest.fixture(scope="module")
def manifest_runs(sandbox_server: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ManifestRun]:
    """Both manifests, each checked in one run of the command."""
    folder = tmp_path_factory.mktemp("manifests")
    write_samples(folder)
    (folder / "assets.jsonl").write_text("\n".join([json.dumps(GOOD_ROW), *_lines(MANIFEST_ROWS)]))
    (folder / "assets.csv").write_text("\n".join([CSV_HEADER, "chair,text-to-3d,a chair,true,", *_lines(CSV_ROWS)]))
    sandbox_server.reset(task_seconds=TASK_SECONDS)
    cli = Cli(sandbox_server.url, folder)
    return {manifest: _check(cli, sandbox_server, manifest) for manifest in ("assets.jsonl", "assets.csv")}


def assert_reported(run: ManifestRun, line: int, message: str, rows: int) -> None:
    assert any(p.startswith(f"line {line}: ") and message in p for p in run.problems), run.problems
    assert len(run.problems) == rows  # good rows are not blamed, no row is blamed twice
    assert run.requests == []
    assert not run.out_dir_made


@pytest.mark.parametrize(("line", "message"), MANIFEST_ROWS)
def test_every_bad_manifest_row_is_reported_by_line(
    manifest_runs: dict[str, ManifestRun], line: str, message: str
) -> None:
    number = 2 + _lines(MANIFEST_ROWS).index(line)
    assert_reported(manifest_runs["assets.jsonl"], number, message, len(MANIFEST_ROWS))


@pytest.mark.parametrize(("line", "message"), CSV_ROWS)
def test_every_bad_csv_row_is_reported_by_line(manifest_runs: dict[str, ManifestRun], line: str, message: str) -> None:
    number = 3 + _lines(CSV_ROWS).index(line)
    assert_reported(manifest_runs["assets.csv"], number, message, len(CSV_ROWS))
