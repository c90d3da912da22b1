"""The headless ``meshy`` command: ``blender -b --online-mode -c meshy …`` or ``python -m meshy_blender …``.

Inside Blender the add-on registers the command with ``bpy.utils.register_cli_command``
and Blender's online-access setting is respected: when it is off the command stops
and says to start Blender with ``--online-mode``. With the pip ``bpy`` module
(``python -m meshy_blender``) there is no such switch and the setting is always off,
so the command turns ``use_online_access`` on itself: running a network command is
the user's explicit consent to go online.

Generation commands run through :mod:`.headless` (jobs, ledger, pump, importer);
``tasks`` and ``balance`` are single API calls; ``bridge`` serves the Meshy Bridge
(:func:`.bridge_glue.serve_bridge`); its hidden ``--allow-loopback-downloads`` exists
for tests only: it lets the bridge fetch models from 127.0.0.1 (the sandbox). Errors
end the command with the exit code their class carries (see ``api.errors``); usage
errors exit with 2 before anything is sent. Bpy-heavy modules are imported only when a command needs them, so
``--help`` and usage errors answer at once.

Installed with pip without the ``[bpy]`` extra (the ``meshy-blender`` console script in a
plain venv) there is no Blender: ``--help``, every input check, ``balance`` and ``tasks``
still work (there is no online-access setting to respect), and a command that needs a
scene (generation, ``batch``, ``assemble``, ``bridge``) exits with 2 after its input
checks, saying how to get Blender, before anything is sent.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ... import cli_args
from ...api.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, MeshyError, ValidationError
from ...api.tasks import Task, TaskKind
from ...api.urls import require_secure_url
from ...jobs import specs
from ...jobs.cli_events import Reporter
from .. import session
from . import COMMAND_ID

EXIT_INTERRUPTED = 130


def main(argv: Sequence[str], *, module_mode: bool = False, prog: str = COMMAND_ID) -> int:
    """Run one command; returns the exit code (never raises SystemExit)."""
    try:
        args = cli_args.build_parser(prog).parse_args(list(argv))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_BAD_INPUT
    with _private_stdout() as stdout:
        reporter = Reporter(json_mode=args.json, stdout=stdout)
        try:
            return _dispatch(args, reporter, module_mode=module_mode)
        except MeshyError as error:
            reporter.error(str(error), exit_code=error.exit_code)
            return error.exit_code
        except KeyboardInterrupt:
            reporter.error(
                "Interrupted. Run the same command again to carry on with the same tasks.", exit_code=EXIT_INTERRUPTED
            )
            return EXIT_INTERRUPTED
        except Exception as error:  # a bug: one sentence and a file with the details, not a traceback
            details = _write_error_details()
            reporter.error(
                f"Unexpected error ({type(error).__name__}: {str(error)[:200]}). This is a bug in Meshy for "
                f"Blender; the details are in {details}. Running the same command again carries on with the "
                "tasks already created.",
                exit_code=EXIT_INTERNAL,
            )
            return EXIT_INTERNAL


def _write_error_details() -> str:
    """Write the current exception's traceback to a new file in the temporary folder; its path."""
    handle, path = tempfile.mkstemp(prefix="meshy-error-", suffix=".txt", text=True)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        traceback.print_exc(file=out)
    return path


@contextlib.contextmanager
def _private_stdout() -> Iterator[TextIO]:
    """A stream to the real stdout for the command's own output; meanwhile fd 1 goes to stderr.

    Blender and its glTF importer print their own progress on stdout. Sending that to
    stderr keeps stdout for results: sentences, or one JSON object per line with --json.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    stream = os.fdopen(os.dup(saved), "w", encoding=sys.stdout.encoding or "utf-8", errors="replace")
    os.dup2(2, 1)
    try:
        yield stream
    finally:
        stream.close()
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# -- set-up shared by every command -------------------------------------------------------


def _config(args: argparse.Namespace) -> session.Config:
    key = (args.api_key or session.key_from_environment()).strip()
    if not key:
        raise ValidationError(
            "No Meshy API key: pass --api-key or set the MESHY_API_KEY environment variable.", field="api_key"
        )
    base_url = (args.base_url or "").strip() or session.base_url_from_environment()
    # Checked here, before an output folder is made or the network is touched.
    return session.Config(api_key=key, base_url=require_secure_url(base_url, "Meshy base URL", "base_url"))


def _blender_installed() -> bool:
    return importlib.util.find_spec("bpy") is not None


def _require_blender(command: str) -> None:
    """ValidationError (exit 2, nothing sent) when ``command`` needs a scene and bpy is not installed."""
    if not _blender_installed():
        raise ValidationError(
            f"'{command}' runs in Blender, and Blender's Python module (bpy) is not installed here. Install it "
            "with: pip install 'meshy-blender[bpy]' (Python 3.11), or run the command in Blender: "
            f"blender -b --online-mode -c meshy {command} …",
            field="bpy",
        )


def _allow_network(module_mode: bool) -> None:
    if module_mode and not _blender_installed():
        return  # plain Python: no Blender setting to respect; running the command is the consent
    import bpy

    preferences = bpy.context.preferences
    if module_mode and preferences is not None:
        preferences.system.use_online_access = True
    session.check_online_access()


def _bridge(args: argparse.Namespace, reporter: Reporter, *, module_mode: bool) -> int:
    """``meshy bridge``: downloads go to a temporary folder; textures are packed into the saved .blend."""
    out_path = Path(args.output).expanduser().resolve() if args.output else None
    if out_path is not None and out_path.suffix.lower() != ".blend":
        raise ValidationError(f"-o must name a .blend file (got {out_path.name}).", field="output")
    _require_blender("bridge")
    _allow_network(module_mode)
    from .. import bridge_glue
    from ..scene import library_keep

    with tempfile.TemporaryDirectory(prefix="meshy-bridge-") as downloads:
        try:
            return bridge_glue.serve_bridge(
                args.port,
                args.once,
                out_path,
                reporter=reporter,
                timeout=args.timeout,
                download_dir=Path(downloads),
                allow_loopback_downloads=args.allow_loopback_downloads,
            )
        finally:
            library_keep.flush()  # the received models' library .blend files the serving loop had no idle time for


def _dispatch(args: argparse.Namespace, reporter: Reporter, *, module_mode: bool) -> int:
    if args.command == "bridge":
        return _bridge(args, reporter, module_mode=module_mode)
    if args.command == "library":  # local files only: no key, no network
        from . import library

        return library.run(args, reporter, require_blender=_require_blender)
    if args.command == "assemble":  # local files only: no key, no network
        _require_blender("assemble")
        from .assemble import assemble

        return assemble(args, reporter)
    if args.command == "convert":
        from .convert import plan as convert_plan

        converting = convert_plan(args)  # all input checked before the key, the network or the scene
        if converting.imports:
            _require_blender("convert")
        config = _config(args)
        _allow_network(module_mode)
        return converting.run(config, reporter)
    if args.command in ("batch", *specs.KINDS, *specs.IMAGE_KINDS):
        from . import generate as cli_generate

        plan = cli_generate.plan(args)  # all input checked before the key, the network or the scene
        _require_blender(args.command)
        from .library import library_dir

        kept_in = None if args.no_library else library_dir(args)  # results kept in the library, unless asked not to
        config = dataclasses.replace(_config(args), library_dir=kept_in)
        _allow_network(module_mode)
        return plan.run(config, reporter)
    config = _config(args)
    _allow_network(module_mode)
    with session.make_client(config) as client:
        if args.command == "balance":
            credits = client.balance()
            reporter.emit("balance", balance=credits)
            reporter.say(f"{credits} credits")
            return EXIT_OK
        kind = TaskKind.from_name(args.kind)
        if args.action == "list":
            tasks = client.list_tasks(
                kind, page_num=args.page, page_size=args.page_size, sort_by=cli_args.SORT_ORDERS[args.sort]
            )
            reporter.emit("tasks", kind=args.kind, page=args.page, tasks=[task.raw for task in tasks])
            for task in tasks:
                reporter.say(_task_line(task))
            if not tasks:
                reporter.say(f"No {kind.label} tasks on page {args.page}.")
        elif args.action == "get":
            task = client.get_task(kind, args.task_id)
            reporter.emit("task", kind=args.kind, task=task.raw)
            reporter.say(_task_details(task))
        else:
            client.delete_task(kind, args.task_id)
            reporter.emit("deleted", kind=args.kind, task_id=args.task_id)
            reporter.say(f"Deleted {kind.label} task {args.task_id}.")
    return EXIT_OK


# -- task output --------------------------------------------------------------------------


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M") if ms else "-"


def _task_line(task: Task) -> str:
    about = task.prompt or task.type
    return f"{task.id}  {task.status.value:<11} {task.progress:>3}%  {_when(task.created_at)}  {about}"


def _task_details(task: Task) -> str:
    lines = [
        f"id:        {task.id}",
        f"type:      {task.type or task.kind.label}",
        f"status:    {task.status.value} ({task.progress}%)",
        f"created:   {_when(task.created_at)}",
    ]
    if task.prompt:
        lines.append(f"prompt:    {task.prompt}")
    if task.task_error is not None:
        lines.append(f"error:     {task.task_error.message} {task.task_error.code}".rstrip())
    if task.consumed_credits is not None:
        lines.append(f"credits:   {task.consumed_credits}")
    if task.glb_url:
        lines.append(f"glb:       {task.glb_url}")
    if task.expires_at:
        lines.append(f"expires:   {_when(task.expires_at)}")
    return "\n".join(lines)
