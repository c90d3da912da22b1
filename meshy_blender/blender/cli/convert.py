"""``meshy convert (--model FILE.glb | --task-id ID) --target-format FMT -o FILE``.

``-o FILE.<fmt>`` writes the converted file (no Blender needed); ``-o FILE.blend`` imports
it into that scene (added to it if it exists) when Blender can read the format (GLB,
FBX, OBJ, STL; what the import reads is bounded as :mod:`..scene.model_formats` says).
Everything is checked before the key or the network are touched (exit 2). The task is
not resumed by a second run: it costs one credit, and the file is written whole or not
at all.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...api.errors import EXIT_OK, ValidationError
from ...api.tasks import Task
from ...jobs import conversion, outputs, specs
from ...jobs.cli_events import Reporter
from .. import session


@dataclass
class ConvertPlan:
    body: dict[str, Any]
    output: Path
    timeout: float

    @property
    def format(self) -> str:
        return str(self.body["target_formats"][0])

    @property
    def imports(self) -> bool:
        """Whether the file is imported into a .blend (which needs Blender) rather than written as it is."""
        return self.output.suffix.lower() == ".blend" and self.format != "blend"

    def run(self, config: session.Config, reporter: Reporter) -> int:
        outputs.prepare_folder(self.output.parent, self.output.name)

        def seen(task: Task) -> None:
            reporter.emit("progress", task_id=task.id, status=task.status.value, progress=task.progress)

        with session.make_client(config) as client:
            if not self.imports:
                task, _ = conversion.convert_model(client, self.body, self.output, timeout=self.timeout, on_update=seen)
                return self._done(reporter, task, self.output)
            with tempfile.TemporaryDirectory(prefix=".meshy-convert-", dir=self.output.parent) as folder:
                converted = Path(folder) / f"model.{self.format}"
                task, _ = conversion.convert_model(client, self.body, converted, timeout=self.timeout, on_update=seen)
                note = _import_and_save(converted, task, self.output)
        if note:
            reporter.say(f"Note: {note}")
        return self._done(reporter, task, self.output)

    @staticmethod
    def _done(reporter: Reporter, task: Task, output: Path) -> int:
        credits = task.consumed_credits or 0
        reporter.emit("done", task_id=task.id, output=str(output), credits=credits)
        reporter.say(f"Saved {output} ({credits} credits)")
        return EXIT_OK


def _import_and_save(model: Path, task: Task, output: Path) -> str:
    """Import ``model`` into ``output`` (opened, or a new scene) and save it; what the import left out."""
    from ..scene import importer, scene_io

    scene_io.open_scene(output)
    result = importer.import_glb(
        model, job_id=task.id, display_name=output.stem, tags={"meshy_task_id": task.id, "meshy_kind": "convert"}
    )
    scene_io.save_scene(output)
    return result.note


def plan(args: argparse.Namespace) -> ConvertPlan:
    """The command's input checked: the model, the format and where the result goes (ValidationError: exit 2)."""
    fmt = args.target_format
    output = Path(args.output).expanduser().resolve()
    suffix = output.suffix.lower().lstrip(".")
    if suffix == "blend" and fmt != "blend" and fmt not in conversion.IMPORTABLE:
        raise ValidationError(
            f"Blender cannot import {fmt.upper()} here: use -o FILE.{fmt} to save the converted file.", field="output"
        )
    if suffix not in (fmt, "blend"):
        raise ValidationError(f"-o must name a .{fmt} file (or a .blend to import it into); got {output.name}.")
    values = specs.resolve_files({"model": args.model}, Path.cwd()) if args.model else {}
    body = conversion.check_request(fmt, model=values.get("model"), input_task_id=args.task_id)
    return ConvertPlan(body=body, output=output, timeout=args.timeout)
