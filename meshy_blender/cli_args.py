"""The headless command's arguments: ``meshy <command> …`` (plain Python, no bpy).

Generation options come from :mod:`meshy_blender.jobs.specs`: each is the API field's
name with ``-`` for ``_``, typed and with the API's choices; booleans have a ``--no-``
form, and an option that is not given is not sent (Meshy's default applies).
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any, NoReturn

from .api.validation import CONVERT_FORMATS
from .bridge.messages import DEFAULT_PORT as DEFAULT_BRIDGE_PORT
from .bridge.policy import ASSET_DOMAIN, MESHY_WEB_ORIGINS
from .jobs import specs
from .library.kinds import KIND_LABELS

DEFAULT_TIMEOUT_S = 3600.0
DEFAULT_BATCH_TIMEOUT_S = 6 * 3600.0
#: Meshy's Pro tier runs 10 tasks at once per account (Studio 20, Enterprise 50).
DEFAULT_ACCOUNT_QUEUE = 10
#: Results per part file of a batch (see blender/scene/result_parts.py); a batch of fewer has none.
DEFAULT_PART_SIZE = 100
MAX_PORT = 65535
TASK_KINDS = (
    "text-to-3d",
    "image-to-3d",
    "multi-image-to-3d",
    "rigging",
    "animation",
    "retexture",
    "remesh",
    "text-to-image",
    "image-to-image",
    "uv-unwrap",
    "resize",
    "convert",
)
SORT_ORDERS = {
    "newest": "-created_at",
    "oldest": "+created_at",
    "-created_at": "-created_at",
    "+created_at": "+created_at",
}

_EPILOG = """\
API key: --api-key or the MESHY_API_KEY environment variable. Base URL: --base-url or
MESHY_BASE_URL (default https://api.meshy.ai).
Exit codes: 0 done; 2 bad usage or input, or an output folder that cannot be written
(nothing sent); 3 refused by Meshy (key, credits, permission, bad request); 4 a task
failed or was canceled; 5 network problem or timeout (run the same command again to
pick up the same tasks); 6 a paid result could not be written on this computer (full
disk, folder gone: fix it and run the same command again; nothing is paid twice);
7 another run is writing the same output (nothing sent; see --wait-for-output);
8 (batch) the --max-credits budget left assets undone (nothing past it was created;
run again with a larger budget to make them); 130 interrupted (run the same command
again to carry on); 1 an unexpected error in the add-on itself (a bug: the message
names a file with the details; running the same command again carries on with the
tasks already created).
"""

_DESCRIPTIONS = {
    "text-to-3d": "Generate a model from a text prompt (preview mesh; with --refine also textured).",
    "image-to-3d": "Generate a model from one image.",
    "multi-image-to-3d": "Generate a model from 1 to 4 images of the same object.",
    "rig": "Rig a humanoid model; the result carries walking and running clips.",
    "animate": "Animate a rigged character with actions from Meshy's animation library "
    "(several --action-id: one file with a clip per action).",
    "retexture": "Give a model a new texture from a text or image style.",
    "uv-unwrap": "Give a model (at most 40,000 faces) a new UV layout; the result is untextured.",
    "resize": "Scale a model to a real-world size: one of --resize-height, --resize-longest-side, --auto-size.",
    "text-to-image": "Concept pictures from a text prompt, written as PNG files (--generate-multi-view: four views).",
    "image-to-image": "Concept pictures from 1 to 5 reference images and a prompt, written as PNG files.",
}
_CONCEPT_CHAIN = (
    "The 'done' event (--json) carries the task id (so do 'state' events). Turn a picture into a model\n"
    "without uploading it again: meshy image-to-3d --input-task-id TASK_ID -o model.blend\n"
    "(a set of views from --generate-multi-view: meshy multi-image-to-3d --input-task-id TASK_ID …)."
)


#: What a Meshy API key looks like inside an error message (the rest of the word, quotes excluded).
_KEY_LIKE = re.compile(r"msy_[^\s'\"]+")


def redact_keys(text: str) -> str:
    """``text`` with anything that looks like a Meshy key, or is the MESHY_API_KEY value, replaced."""
    text = _KEY_LIKE.sub("msy_***", text)
    from_environment = os.environ.get("MESHY_API_KEY", "").strip()
    return text.replace(from_environment, "***") if from_environment else text


class _Parser(argparse.ArgumentParser):
    """Usage errors quote the arguments (``unrecognized arguments: --api-kye msy_…``): never a key."""

    def error(self, message: str) -> NoReturn:
        super().error(redact_keys(message))


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _part_size(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be a number of assets, or 0 for none")
    return value


def _shard(text: str) -> tuple[int, int]:
    """``K/N`` → (K, N) with 1 ≤ K ≤ N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"must be K/N, e.g. 1/3 (got {text!r})")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"K must be from 1 to N (got {text!r})")
    return index, count


def _credits(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be a whole number of credits, 0 or more")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _common() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection and output")
    group.add_argument("--api-key", help="Meshy API key (default: $MESHY_API_KEY); never printed or saved")
    group.add_argument("--base-url", help="Meshy API base URL (default: $MESHY_BASE_URL or https://api.meshy.ai)")
    group.add_argument("--json", action="store_true", help="print one JSON object per event on stdout")
    return parent


def _timeout(parser: argparse.ArgumentParser, default: float) -> None:
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=default,
        metavar="SECONDS",
        help=f"give up waiting after this many seconds (default {default:g}; exit code 5)",
    )


def _wait_for_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait-for-output",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="when another run is writing the same output, wait this long for it to end "
        "(default 0: stop at once with exit code 7; nothing is sent either way)",
    )


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError("must be a number of seconds, 0 or more")
    return value


def _add_field(parser: argparse._ActionsContainer, field: specs.Field, **extra: Any) -> None:
    flag = "--" + field.name.replace("_", "-")
    choices = f" ({', '.join(repr(c) if c == '' else str(c) for c in field.choices)})" if field.choices else ""
    help_text = field.help + choices
    if field.type is bool:
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text, **extra)
    elif field.type is list:
        parser.add_argument(flag, nargs="+", choices=field.choices or None, metavar="VALUE", help=help_text, **extra)
    else:
        if field.repeatable:
            extra = {"action": "append", **extra}
        parser.add_argument(
            flag, type=field.type, choices=field.choices or None, metavar=field.name.upper(), help=help_text, **extra
        )


def _task_command(
    sub: argparse._SubParsersAction, kind: str, common: argparse.ArgumentParser, description: str, **output: str
) -> argparse.ArgumentParser:
    """A command that runs one Meshy task of ``kind`` into ``-o`` (``output``: its metavar and help)."""
    parser = sub.add_parser(
        kind,
        parents=[common],
        help=_DESCRIPTIONS[kind],
        description=description,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-o", "--output", required=True, **output)
    _timeout(parser, DEFAULT_TIMEOUT_S)
    _wait_for_output(parser)
    _library_choice(parser)
    return parser


def _library_choice(parser: argparse.ArgumentParser) -> None:
    """Where a command's results are kept besides its output: the artist's library, another, or none."""
    group = parser.add_argument_group("library").add_mutually_exclusive_group()
    group.add_argument(
        "--library-dir",
        metavar="DIR",
        help="keep the results in this library (default: $MESHY_LIBRARY_DIR or the add-on's)",
    )
    group.add_argument(
        "--no-library",
        action="store_true",
        help="keep the results only where the command writes them, not in a library (a farm node's library "
        "is nobody's: a batch's --out-dir is an asset library of its own; each result then costs less)",
    )


def _generation(sub: argparse._SubParsersAction, kind: str, common: argparse.ArgumentParser) -> None:
    parser = _task_command(
        sub,
        kind,
        common,
        _DESCRIPTIONS[kind],
        metavar="FILE",
        help="FILE.blend: save a scene with the imported result (added to FILE if it exists); "
        "FILE.glb: save the downloaded model (a rig's clips go beside it as "
        "FILE-walking.glb and FILE-running.glb)",
    )
    inputs = parser.add_argument_group("input")
    fields = specs.FIELDS
    if kind == "text-to-3d":
        _add_field(inputs, fields["prompt"], required=True)
        inputs.add_argument("--refine", action="store_true", help=fields["refine"].help)
    elif kind in ("image-to-3d", "multi-image-to-3d"):
        what = "a PNG or JPEG file, or an image URL" if kind == "image-to-3d" else "1 to 4 PNG/JPEG files or URLs"
        inputs.add_argument("images", nargs="*", metavar="IMAGE", help=f"{what} of the object (or --input-task-id)")
        _add_field(inputs, fields["input_task_id"])
    elif kind in ("rig", "retexture", *specs.TOOL_KINDS):
        model = inputs.add_mutually_exclusive_group(required=True)
        _add_field(model, fields["model"])
        _add_field(model, fields["task_id"])
        if kind == "retexture":
            style = inputs.add_mutually_exclusive_group(required=True)
            _add_field(style, fields["text_style_prompt"])
            _add_field(style, fields["image_style_url"])
    else:
        _add_field(inputs, fields["rig_task_id"], required=True)
        _add_field(inputs, fields["action_id"], required=True)
    options = parser.add_argument_group("Meshy options (not sent unless given)")
    for name in specs.OPTIONS[kind]:
        _add_field(options, fields[name])
    parser.set_defaults(request_fields=specs.INPUTS[kind] + specs.OPTIONS[kind])


def _concept(sub: argparse._SubParsersAction, kind: str, common: argparse.ArgumentParser) -> None:
    """``text-to-image`` / ``image-to-image``: concept pictures into a folder."""
    parser = _task_command(
        sub,
        kind,
        common,
        f"{_DESCRIPTIONS[kind]}\n\n{_CONCEPT_CHAIN}",
        metavar="DIR",
        help="the folder the pictures are written to, as <name>-1.png … (made if missing)",
    )
    inputs = parser.add_argument_group("input")
    if kind == "image-to-image":
        inputs.add_argument("images", nargs="+", metavar="IMAGE", help="1 to 5 reference PNG/JPEG files or URLs")
    _add_field(inputs, specs.FIELDS["prompt"], required=True)
    options = parser.add_argument_group("Meshy options (not sent unless given)")
    for name in specs.OPTIONS[kind]:
        _add_field(options, specs.field_of(kind, name))
    parser.set_defaults(request_fields=specs.INPUTS[kind] + specs.OPTIONS[kind])


def _convert(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    description = (
        "Convert a model to another file format with Meshy (1 credit; no remeshing).\n"
        "-o FILE.<format> saves the converted file; -o FILE.blend imports it into that scene\n"
        "(GLB, FBX, OBJ and STL can be imported; added to FILE.blend if it exists)."
    )
    parser = sub.add_parser(
        "convert",
        parents=[common],
        help="convert a model to glb, fbx, obj, usdz, blend, stl or 3mf",
        description=description,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.<format>, or FILE.blend")
    _timeout(parser, DEFAULT_TIMEOUT_S)
    model = parser.add_argument_group("input").add_mutually_exclusive_group(required=True)
    _add_field(model, specs.FIELDS["model"])
    _add_field(model, specs.FIELDS["task_id"])
    parser.add_argument("--target-format", required=True, choices=CONVERT_FORMATS, help="the format to convert to")


def _batch(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    description = (
        "Generate many assets from a manifest: JSON Lines, one object per line, or CSV with the same\n"
        "columns. Each row has a unique 'name', a 'kind' (text-to-3d, image-to-3d, multi-image-to-3d,\n"
        "rig, animate, retexture), its inputs (prompt, refine, images, model, task_id, rig_task_id or\n"
        "rig_of: <name of a rig row>, action_id (or a list: [1, 13]), text_style_prompt, image_style_url)\n"
        "and any API fields. File paths are relative to the manifest; in CSV, lists are separated by\n"
        "';' and booleans are true/false. Every row is checked before anything is sent.\n\n"
        "Writes DIR/<name>.glb per asset and DIR/batch.blend with each asset in its own collection,\n"
        "laid out in a grid. Running it again with the same --out-dir carries on: finished assets are\n"
        "skipped and tasks already created are picked up, never created twice (DIR/.meshy-batch-jobs/).\n\n"
        "Across machines: run each --shard K/N into its own --out-dir, then 'meshy assemble' them into\n"
        "one .blend (pipelines/openjd/meshy_batch.yaml does both on a render farm)."
    )
    parser = sub.add_parser(
        "batch",
        parents=[common],
        help="generate many assets from a manifest",
        description=description,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("manifest", metavar="MANIFEST", help="a .jsonl (JSON Lines) or .csv file")
    parser.add_argument("--out-dir", required=True, metavar="DIR", help="where the GLBs and batch.blend go")
    parser.add_argument(
        "--shard",
        type=_shard,
        default=(1, 1),
        metavar="K/N",
        help="run only shard K of N (K counted from 1): rows K, K+N, K+2N… of the manifest, an animate "
        "row always with its rig_of row's shard. Give each shard its own --out-dir, then join them "
        "with 'meshy assemble' (default 1/1: every row)",
    )
    parser.add_argument(
        "--account-queue",
        type=_positive_int,
        default=DEFAULT_ACCOUNT_QUEUE,
        metavar="N",
        help=f"tasks the Meshy account runs at once, across all shards (default {DEFAULT_ACCOUNT_QUEUE}, "
        "the Pro tier; Studio 20, Enterprise 50)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=None,
        metavar="N",
        help="jobs this run keeps going at once (default: --account-queue divided by the shard count N, "
        "at least 1); when Meshy's queue is full anyway, jobs wait for a free slot",
    )
    parser.add_argument(
        "--max-credits",
        type=_credits,
        default=None,
        metavar="N",
        help="a budget for this --out-dir: a task is created only while the estimated credits of every "
        "task created for it so far (earlier runs included) stay within N; assets left undone are "
        "named in the summary (exit code 8)",
    )
    parser.add_argument(
        "--part-size",
        type=_part_size,
        default=DEFAULT_PART_SIZE,
        metavar="N",
        help="write every N results to DIR/parts/batch-part-001.blend … (with their textures), which "
        "batch.blend links: every import of a large batch then costs what the first did, and batch.blend "
        "stays small; linked assets are read-only there (Make Local to edit one). 0: every asset in "
        f"batch.blend itself (default {DEFAULT_PART_SIZE}: a batch of fewer assets has no parts)",
    )
    _timeout(parser, DEFAULT_BATCH_TIMEOUT_S)
    _wait_for_output(parser)
    _library_choice(parser)


def _assemble(sub: argparse._SubParsersAction) -> None:
    description = (
        "Join the outputs of batch shards into one scene: every asset of each DIR/batch.blend is\n"
        "appended (meshes, materials, rigs and their actions as the batch made them) into its own\n"
        "collection under 'Meshy', laid out in one grid. FILE.blend is written anew each time.\n"
        "No API key and no network are needed.\n\n"
        "Exit codes: 0 assembled; 2 a DIR is missing, holds no batch.blend or no assets, two DIRs\n"
        "hold the same asset, or FILE.blend cannot be written there; 6 writing FILE.blend failed\n"
        "(full disk, folder gone); 7 another run is writing FILE.blend."
    )
    parser = sub.add_parser(
        "assemble",
        help="join the outputs of batch shards into one .blend",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="--out-dir folders of 'meshy batch' runs")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.blend", help="the scene to write")
    parser.add_argument("--json", action="store_true", help="print one JSON object per event on stdout")
    _wait_for_output(parser)


def _tasks(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "tasks",
        help="list, show or delete your Meshy tasks",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="{list,get,delete}")
    kind_help = "the kind of task (default text-to-3d)"
    listing = actions.add_parser("list", parents=[common], help="one page of tasks, newest first")
    listing.add_argument("--kind", choices=TASK_KINDS, default="text-to-3d", help=kind_help)
    listing.add_argument("--page", type=_positive_int, default=1, metavar="N", help="page number (default 1)")
    listing.add_argument(
        "--page-size", type=_positive_int, default=10, metavar="N", help="tasks per page, at most 50 (default 10)"
    )
    listing.add_argument(
        "--sort",
        choices=tuple(SORT_ORDERS),
        default="newest",
        help="newest or oldest first (default newest; '--sort=-created_at' also works)",
    )
    for action, text in (("get", "show one task"), ("delete", "delete one task and its files on Meshy")):
        one = actions.add_parser(action, parents=[common], help=text)
        one.add_argument("task_id", metavar="TASK_ID")
        one.add_argument("--kind", choices=TASK_KINDS, default="text-to-3d", help=kind_help)


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_PORT}")
    return value


def _bridge(sub: argparse._SubParsersAction) -> None:
    description = (
        'Run the Meshy Bridge: receive the models you send with "Send to Blender" in the Meshy web\n'
        "app and import each into the scene. No API key is needed. The bridge\n"
        "- listens on 127.0.0.1 only, never on the network;\n"
        f"- answers only pages of Meshy's web app: {', '.join(MESHY_WEB_ORIGINS)};\n"
        f"- downloads only from Meshy's asset hosts (https://*.{ASSET_DOMAIN}).\n\n"
        "It runs until Ctrl+C or --timeout, or with --once until the first model is imported.\n"
        "Exit codes: 0 imported (or stopped); 2 the download was refused (it led away from Meshy);\n"
        "4 the import failed; 5 the port is taken, online access is off, a download failed, or\n"
        "nothing was received before --timeout with --once."
    )
    parser = sub.add_parser(
        "bridge",
        help="receive models sent from the Meshy web app (Send to Blender)",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_BRIDGE_PORT,
        metavar="N",
        help=f"port on 127.0.0.1 to listen on (default {DEFAULT_BRIDGE_PORT}, the one the web app calls); "
        "0 picks a free port, reported in the 'listening' event",
    )
    parser.add_argument("--once", action="store_true", help="stop after the first received model")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE.blend",
        help="save the scene with every imported model to FILE.blend after each import "
        "(added to FILE.blend if it exists); without it nothing is saved",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until Ctrl+C; with --once, exit code 5)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per event on stdout: listening {url, port}, "
        "imported {name, id, objects, output, notes}, error {message, exit_code}",
    )
    # Tests only: the sandbox serves models from 127.0.0.1, which the bridge otherwise refuses.
    parser.add_argument("--allow-loopback-downloads", action="store_true", help=argparse.SUPPRESS)


def _library(sub: argparse._SubParsersAction) -> None:
    description = (
        "The artist's library: every result made in the sidebar, by a command, a batch, the bridge\n"
        "or the task browser, kept on this computer with its model, textures and thumbnail (beyond\n"
        "Meshy's 3 days). The sidebar and the command share it: the add-on's user folder, or\n"
        "$MESHY_LIBRARY_DIR, or --library-dir. No API key and no network are needed.\n\n"
        "Exit codes: 0 done; 2 an unknown ID, or FILE.blend cannot be written there;\n"
        "6 writing FILE.blend failed."
    )
    parser = sub.add_parser(
        "library",
        help="list, import or remove the results kept in your library",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library-dir", metavar="DIR", help="the library's folder (default: the add-on's)")
    common.add_argument("--json", action="store_true", help="print one JSON object per event on stdout")
    actions = parser.add_subparsers(dest="action", required=True, metavar="{list,import,remove}")
    listing = actions.add_parser(
        "list", parents=[common], help="the kept results, newest first (--json: one 'entry' event each)"
    )
    listing.add_argument("--kind", choices=tuple(KIND_LABELS), help="only results of this kind")
    listing.add_argument("--search", metavar="TEXT", default="", help="only results whose name or prompt has TEXT")
    one = actions.add_parser("import", parents=[common], help="import a kept result into FILE.blend (no network)")
    one.add_argument("entry_id", metavar="ID", help="the result's task id, as 'list' shows it")
    one.add_argument("-o", "--output", required=True, metavar="FILE.blend", help="added to FILE.blend if it exists")
    gone = actions.add_parser("remove", parents=[common], help="delete a kept result and its files")
    gone.add_argument("entry_id", metavar="ID", help="the result's task id, as 'list' shows it")


def build_parser(prog: str = "meshy") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Generate 3D assets with Meshy and save them as .blend or .glb.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub: argparse._SubParsersAction = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common()
    for kind in specs.KINDS:
        _generation(sub, kind, common)
    for kind in specs.IMAGE_KINDS:
        _concept(sub, kind, common)
    _convert(sub, common)
    _batch(sub, common)
    _assemble(sub)
    _tasks(sub, common)
    _bridge(sub)
    _library(sub)
    sub.add_parser(
        "balance",
        parents=[common],
        help="show the account's remaining credits",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def batch_concurrency(args: argparse.Namespace) -> int:
    """``--concurrency``, or this shard's share of the account's queue (shards run side by side)."""
    return int(args.concurrency or max(1, args.account_queue // args.shard[1]))


def request_values(args: argparse.Namespace) -> dict[str, Any]:
    """The request fields a generation command was given (None: not given)."""
    values = {name: getattr(args, name, None) for name in args.request_fields}
    if values.get("refine") is False:
        values["refine"] = None
    return {name: value for name, value in values.items() if value is not None}
