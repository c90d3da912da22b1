"""The add-on enabled in real Blender the way Blender enables an extension, pointed at the sandbox.

A user extension repository in a temporary directory holds ``meshy_blender`` laid out
exactly as in the shipped zip (``build_extension.stage_extension``: the package's files
beside the top-level ``blender_manifest.toml``); the add-on is then enabled as
``bl_ext.<repo>.meshy_blender``.
Its modules therefore live under that name: tests reach them with :meth:`AddonEnv.module`,
never by importing ``meshy_blender`` directly (that would be a second, unregistered copy).

Test modules load the fixtures with ``pytest_plugins = ["addon_env"]`` and import this module
only for type checking, so that pytest can rewrite its assertions when it loads it as a plugin.
"""

from __future__ import annotations

import importlib
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import addon_utils
import bpy
import pytest
from build_extension import stage_extension
from sandbox_control import PAID_KEY, Sandbox

REPO_MODULE = "meshy_tests"
PACKAGE = f"bl_ext.{REPO_MODULE}.meshy_blender"
TASK_SECONDS = 0.3
JOB_TIMEOUT = 60.0


def stage_repository(root: Path) -> Path:
    """A repository directory holding the extension as the built zip lays it out."""
    repo = root / "repo"
    stage_extension(repo / "meshy_blender")
    return repo


def _raise(error: Exception) -> None:
    raise error


@dataclass
class NetworkCall:
    method: str
    url: str
    on_main_thread: bool


@dataclass
class AddonEnv:
    repo_dir: Path
    package: str = PACKAGE
    #: Every request the add-on's clients made (filled by a session client hook).
    network: list[NetworkCall] = field(default_factory=list)

    def module(self, name: str) -> ModuleType:
        """The add-on's own module ``name`` (e.g. "blender.pump")."""
        return importlib.import_module(f"{self.package}.{name}")

    # -- enabling --------------------------------------------------------------------
    def _repo(self) -> Any:
        repos = bpy.context.preferences.extensions.repos
        return next((repo for repo in repos if repo.module == REPO_MODULE), None)

    def is_enabled(self) -> bool:
        return bool(addon_utils.check(self.package)[1])

    def enable(self) -> None:
        """Register the repository (again, e.g. after a factory reset) and enable the add-on."""
        if self._repo() is None:
            bpy.context.preferences.extensions.repos.new(
                name="Meshy tests", module=REPO_MODULE, custom_directory=str(self.repo_dir), source="USER"
            )
        if not self.is_enabled():
            addon_utils.enable(self.package, default_set=True, handle_error=_raise)

    def disable(self, *, keep_preferences: bool = False) -> None:
        """Disable the add-on; ``keep_preferences`` keeps its saved settings, as quitting Blender does."""
        addon_utils.disable(self.package, default_set=not keep_preferences, handle_error=_raise)

    def remove_repository(self) -> None:
        repo = self._repo()
        if repo is not None:
            bpy.context.preferences.extensions.repos.remove(repo)

    # -- state -----------------------------------------------------------------------
    @property
    def prefs(self) -> Any:
        return bpy.context.preferences.addons[self.package].preferences

    @property
    def props(self) -> Any:
        return bpy.context.scene.meshy

    def manager(self) -> Any:
        manager = self.module("blender.session").current_manager()
        assert manager is not None, "no job was submitted"
        return manager

    def jobs(self) -> list[Any]:
        """Every job the add-on knows, newest first ([] before the first use)."""
        manager = self.module("blender.session").current_manager()
        return manager.jobs() if manager is not None else []

    def newest_job(self) -> Any:
        return self.manager().jobs()[0]

    def run_jobs(self, timeout: float = JOB_TIMEOUT) -> list[Any]:
        """Drive the pump until every job is final (imported, failed or canceled); all jobs, newest first."""
        manager = self.manager()
        pump = self.module("blender.pump")
        assert pump.run_until(manager.all_final, timeout=timeout), [
            (job.name, job.state, job.message) for job in manager.jobs()
        ]
        return manager.jobs()

    def run_job(self, timeout: float = JOB_TIMEOUT) -> Any:
        """Run every job to the end; the newest one, which must have been imported."""
        self.run_jobs(timeout)
        job = self.newest_job()
        assert job.state.value == "imported", (job.state, job.error)
        return job

    def imported(self, job: Any) -> list[bpy.types.Object]:
        return list(self.module("blender.scene.importer").find_imported(job.id))

    def wait_call(self, name: str, timeout: float = 20.0) -> Any:
        calls = self.module("blender.ui.calls")
        assert calls.wait(name, timeout), f"call {name} still running"
        return calls.get(name)

    def draw(self, panel_class: type) -> RecordingLayout:
        """Draw a panel, or the add-on preferences (drawn on behalf of the real preferences)."""
        preferences = issubclass(panel_class, bpy.types.AddonPreferences)
        return draw_panel(panel_class, self.prefs if preferences else None)

    def record_network(self, client: Any) -> None:
        def listener(method: str, url: str) -> None:
            main = threading.current_thread() is threading.main_thread()
            self.network.append(NetworkCall(method, url, main))

        client.request_listeners.append(listener)

    def stop(self) -> None:
        """Stop every worker and background call; forget the jobs (ledger included) and the library."""
        self.module("blender.ui.calls").shutdown(5.0)
        self.module("blender.session").shutdown(5.0)
        shutil.rmtree(self.module("blender.paths").jobs_dir(), ignore_errors=True)
        shutil.rmtree(self.module("blender.paths").library_dir(), ignore_errors=True)


@pytest.fixture(scope="session")
def addon_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AddonEnv]:
    """The add-on enabled once per test session; its user data in a temporary directory."""
    root = tmp_path_factory.mktemp("addon")
    with pytest.MonkeyPatch.context() as patch:
        # Blender reads this on every call: extension_path_user (ledger, downloads) lands in root.
        patch.setenv("BLENDER_USER_EXTENSIONS", str(root / "user_extensions"))
        env = AddonEnv(stage_repository(root))
        env.enable()
        yield env
        if env.is_enabled():
            env.disable()
        env.remove_repository()


@pytest.fixture
def meshy(addon_session: AddonEnv, sandbox: Sandbox, tmp_path: Path) -> Iterator[AddonEnv]:
    """The add-on, enabled, online, configured for the sandbox (short tasks), in an empty scene."""
    env = addon_session
    env.enable()
    env.stop()
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    sandbox.configure(task_seconds=TASK_SECONDS)
    bpy.context.preferences.system.use_online_access = True
    prefs = env.prefs
    prefs.api_key = PAID_KEY
    prefs.base_url = sandbox.url
    prefs.download_dir = str(tmp_path / "downloads")
    prefs.concurrency = 4
    prefs.use_sse = True
    prefs.place_at_cursor = True
    prefs.placement = "CURSOR"
    prefs.target_height = 0.0
    hooks = env.module("blender.session").client_hooks
    env.network.clear()
    hooks.append(env.record_network)
    try:
        yield env
    finally:
        hooks.remove(env.record_network)
        env.stop()


class RecordingLayout:
    """Stands in for ``UILayout`` when calling a panel's ``draw``: records every call, checks names.

    ``prop`` checks that the property exists on its data and ``operator`` that the operator is
    registered and that every property set on the returned object is one it has, so a typo in a
    panel fails the test instead of printing a warning in Blender's console.
    """

    def __init__(self, calls: list[tuple[str, Any]] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = calls if calls is not None else []

    def _sub(self, kind: str, *args: Any, **kwargs: Any) -> RecordingLayout:
        self.calls.append((kind, kwargs))
        return RecordingLayout(self.calls)

    def row(self, **kwargs: Any) -> RecordingLayout:
        return self._sub("row", **kwargs)

    def column(self, **kwargs: Any) -> RecordingLayout:
        return self._sub("column", **kwargs)

    def box(self) -> RecordingLayout:
        return self._sub("box")

    def split(self, **kwargs: Any) -> RecordingLayout:
        return self._sub("split", **kwargs)

    def grid_flow(self, **kwargs: Any) -> RecordingLayout:
        return self._sub("grid_flow", **kwargs)

    def template_icon(self, *, icon_value: int, scale: float = 1.0) -> None:
        assert isinstance(icon_value, int), icon_value
        self.calls.append(("template_icon", {"icon_value": icon_value, "scale": scale}))

    def separator(self, **kwargs: Any) -> None:
        self.calls.append(("separator", kwargs))

    def label(self, *, text: str = "", icon: str = "NONE", icon_value: int = 0) -> None:
        _check_icon(icon)
        assert isinstance(icon_value, int), icon_value
        self.calls.append(("label", {"text": text, "icon": icon, "icon_value": icon_value}))

    def prop(self, data: Any, name: str, **kwargs: Any) -> None:
        assert name in data.bl_rna.properties, f"{type(data).__name__} has no property {name!r}"
        _check_icon(kwargs.get("icon", "NONE"))
        self.calls.append(("prop", {"name": name, **kwargs}))

    def template_ID(self, data: Any, name: str, **kwargs: Any) -> None:
        assert name in data.bl_rna.properties, f"{type(data).__name__} has no property {name!r}"
        self.calls.append(("template_ID", {"name": name, **kwargs}))

    def progress(self, *, factor: float, type: str, text: str) -> None:
        assert 0.0 <= factor <= 1.0, factor
        assert type in ("BAR", "RING"), type
        self.calls.append(("progress", {"factor": factor, "type": type, "text": text}))

    def operator(self, idname: str, *, text: str = "", icon: str = "NONE", **kwargs: Any) -> RecordedOperator:
        _check_icon(icon)
        module, name = idname.split(".")
        rna = getattr(getattr(bpy.ops, module), name).get_rna_type()  # KeyError when not registered
        recorded = RecordedOperator(idname, {prop.identifier for prop in rna.properties})
        self.calls.append(("operator", {"idname": idname, "text": text, "icon": icon, "op": recorded}))
        return recorded

    def labels(self) -> list[str]:
        return [kwargs["text"] for kind, kwargs in self.calls if kind == "label"]

    def operators(self) -> list[RecordedOperator]:
        return [kwargs["op"] for kind, kwargs in self.calls if kind == "operator"]

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]


_ICONS = set(bpy.types.UILayout.bl_rna.functions["label"].parameters["icon"].enum_items.keys())


def _check_icon(icon: str) -> None:
    assert icon in _ICONS, f"unknown icon {icon!r}"


class RecordedOperator:
    """The properties a panel set on an operator button."""

    def __init__(self, idname: str, known: set[str]) -> None:
        object.__setattr__(self, "idname", idname)
        object.__setattr__(self, "known", known)
        object.__setattr__(self, "values", {})

    def __setattr__(self, name: str, value: Any) -> None:
        assert name in self.known, f"{self.idname} has no property {name!r}"
        self.values[name] = value


class PanelStandIn:
    """``self`` for a draw call: a recording layout, other attributes from ``target`` (if any)."""

    def __init__(self, layout: RecordingLayout, target: Any) -> None:
        self.layout = layout
        self._target = target

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def draw_panel(panel_class: type, target: Any = None) -> RecordingLayout:
    """Run ``panel_class.draw`` (and its header and header preset, if any) against a recording layout."""
    layout = RecordingLayout()
    panel = PanelStandIn(layout, target)
    panel_class.draw(panel, bpy.context)
    for header in ("draw_header", "draw_header_preset"):
        if hasattr(panel_class, header):
            getattr(panel_class, header)(panel, bpy.context)
    return layout
