# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""Add-on preferences: the API key, where Meshy lives, where results go, how many run at once.

``config(context)`` turns them into the one ``session.Config`` every part of the add-on uses.

The API key is not stored in the preferences: Blender writes add-on preferences into
``userpref.blend``, which people copy between machines and share when asking for help.
The "API key" field is virtual instead (``get``/``set`` functions, so Blender keeps no
value of its own): it reads and writes ``credentials.json`` in the add-on's user folder
(see :mod:`.credentials`). When the field is empty the ``MESHY_API_KEY`` environment
variable is used. A key that older versions left in the preferences is moved to that
file when the add-on starts (:func:`move_key_out_of_preferences`).
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from ... import api
from ...api import limits
from ...bridge import DEFAULT_PORT
from .. import paths, session
from . import calls
from .library import asset_library as asset_library_ui

if TYPE_CHECKING:
    from ...api.client import MeshyClient
    from .. import credentials

BALANCE_CALL = "balance"
API_KEY = "api_key"


def key_store() -> "credentials.CredentialStore":
    from .. import credentials  # its file locking and JSON load when the key is first read, not at enable

    return credentials.store_at(paths.credentials_path())


def _get_key(_prefs: bpy.types.AddonPreferences) -> str:
    return key_store().load()


def _set_key(_prefs: bpy.types.AddonPreferences, value: str) -> None:
    key_store().save(value)


class MeshyPreferences(bpy.types.AddonPreferences):
    bl_idname = paths.PACKAGE

    api_key: StringProperty(
        name="API key",
        subtype="PASSWORD",
        description="Your Meshy API key (msy_…), kept in a file of its own, never in a .blend; "
        "when empty, the MESHY_API_KEY environment variable is used",
        get=_get_key,
        set=_set_key,
    )
    base_url: StringProperty(
        name="Server",
        default=limits.DEFAULT_BASE_URL,
        description="Meshy's API address; change it only for a proxy or the offline sandbox",
    )
    download_dir: StringProperty(
        name="Downloads",
        subtype="DIR_PATH",
        description="Where downloaded models are kept; empty for the add-on's own folder",
    )
    concurrency: IntProperty(
        name="Parallel jobs", default=10, min=1, max=50, description="How many jobs may run at once"
    )
    use_sse: BoolProperty(
        name="Live progress (streaming)", default=True, description="Follow tasks by streaming; off polls instead"
    )
    place_at_cursor: BoolProperty(
        name="Place at 3D cursor", default=True, description="Put new models at the 3D cursor, else at the origin"
    )
    placement: EnumProperty(
        name="Placement",
        description="Where a new model goes when it is imported",
        items=[
            ("CURSOR", "At the cursor", "The model's origin at the 3D cursor (or the world origin), as Meshy made it"),
            ("GROUND", "On the ground", "At the cursor, its lowest point at the cursor's height"),
            (
                "PROXY",
                "Replace the selected proxy",
                "In place of the object selected when the job was asked: its location, rotation and collection, "
                "scaled to fit its box; the proxy is hidden, not deleted",
            ),
        ],
        default="CURSOR",
    )
    target_height: FloatProperty(
        name="Height",
        description="Scale each new model to this real-world height; 0 keeps the size Meshy made it",
        default=0.0,
        min=0.0,
        soft_max=100.0,
        subtype="DISTANCE",
        unit="LENGTH",
    )
    bridge_port: IntProperty(
        name="Bridge port",
        default=DEFAULT_PORT,
        min=1024,
        max=65535,
        description="Port the Meshy Bridge listens on (on this computer only); the web app expects 5324",
    )
    bridge_autostart: BoolProperty(
        name="Start the bridge with Blender",
        default=False,
        description="Start the Meshy Bridge when the add-on is enabled (never while online access is off)",
    )

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        col = layout.column()
        col.prop(self, "api_key")
        if key_store().error:
            col.label(text=key_store().error, icon="ERROR")
        if not self.api_key.strip() and session.key_from_environment():
            col.label(text="Using the key from the MESHY_API_KEY environment variable", icon="INFO")
        row = col.row()
        row.operator("meshy.test_connection", icon="URL")
        draw_balance(row)
        if not bpy.app.online_access:
            draw_offline_hint(col)
        col.separator()
        col.prop(self, "base_url")
        if base_url_problem(base_url(self)):
            col.label(text="Use https:// (plain http:// only to this computer)", icon="ERROR")
        col.prop(self, "download_dir")
        if not self.download_dir.strip():
            col.label(text=f"Default: {paths.default_download_dir(create=False)}", icon="FILE_FOLDER")
        col.prop(self, "concurrency")
        col.prop(self, "use_sse")
        col.prop(self, "place_at_cursor")
        col.prop(self, "placement")
        col.prop(self, "target_height")
        asset_library_ui.draw_button(col, context)
        col.separator()
        col.label(text="Meshy Bridge (Send to Blender from the Meshy web app)")
        col.prop(self, "bridge_port")
        col.prop(self, "bridge_autostart")


def draw_balance(layout: bpy.types.UILayout) -> None:
    """The last balance call's outcome: credits, "checking…", or why it failed."""
    call = calls.get(BALANCE_CALL)
    if call is None:
        return
    if call.running:
        layout.label(text="Checking…", icon="SORTTIME")
    elif call.error:
        layout.label(text=call.error, icon="ERROR")
    else:
        layout.label(text=f"Connected: {call.result} credits", icon="CHECKMARK")


def draw_offline_hint(layout: bpy.types.UILayout) -> None:
    box = layout.box()
    box.label(text="Online access is off, so Meshy cannot be reached.", icon="ERROR")
    box.label(text="Enable it in Preferences > System > Network > Allow Online Access,")
    box.label(text="or start Blender with --online-mode.")


def stored_values(prefs: bpy.types.AddonPreferences) -> Any:
    """The ID properties holding what Blender saves of ``prefs`` (kept apart from them since Blender 5.0)."""
    separate = getattr(prefs, "bl_system_properties_get", None)
    return separate() if separate is not None else prefs


def move_key_out_of_preferences(context: bpy.types.Context) -> None:
    """Move a key that an older version stored in the preferences (so in userpref.blend) to its file."""
    addon = cast(Any, context.preferences).addons.get(paths.PACKAGE)
    stored = stored_values(addon.preferences) if addon is not None and addon.preferences is not None else None
    if stored is None or API_KEY not in stored:
        return
    legacy = stored[API_KEY]
    del stored[API_KEY]
    if isinstance(legacy, str) and legacy.strip() and not key_store().load():
        key_store().save(legacy)


def base_url(prefs: MeshyPreferences) -> str:
    """The server address in use: the preference, else ``MESHY_BASE_URL``, else Meshy's."""
    return prefs.base_url.strip().rstrip("/") or session.base_url_from_environment()


def base_url_problem(url: str) -> str:
    """Why the client would refuse ``url`` (not a web address, or plain HTTP to another computer), or ""."""
    from ...api.urls import require_secure_url  # with ipaddress: when the address is checked, not at enable

    try:
        require_secure_url(url, "Meshy base URL", "base_url")
    except api.MeshyError as error:
        return str(error)
    return ""


def get(context: bpy.types.Context) -> MeshyPreferences:
    return cast(MeshyPreferences, cast(Any, context.preferences).addons[paths.PACKAGE].preferences)


def api_key(context: bpy.types.Context) -> str:
    return get(context).api_key.strip() or session.key_from_environment()


def download_dir(context: bpy.types.Context) -> Path:
    chosen = get(context).download_dir.strip()
    return Path(bpy.path.abspath(chosen)) if chosen else paths.default_download_dir()


def config(context: bpy.types.Context) -> "session.Config":
    from ...jobs.runner import RunSettings  # the job layer loads with the first manager, not at enable

    prefs = get(context)
    return session.Config(
        api_key=api_key(context),
        base_url=base_url(prefs),
        download_dir=download_dir(context),
        jobs_dir=paths.jobs_dir(),
        legacy_ledger=paths.legacy_ledger_path(),
        library_dir=paths.library_dir(),
        concurrency=prefs.concurrency,
        place_at_cursor=prefs.place_at_cursor,
        placement=prefs.placement,
        target_height=prefs.target_height,
        settings=RunSettings(use_sse=prefs.use_sse),
    )


def client(context: bpy.types.Context) -> "MeshyClient":
    """A client for the current preferences; raises MeshyError (bad key or server address), sends nothing."""
    return session.make_client(config(context))


def not_ready_reason(context: bpy.types.Context) -> str:
    """Why nothing may be sent now (offline, no key), or "" when requests may go out."""
    try:
        session.check_online_access()
    except api.OfflineError as error:
        return str(error)
    if not api_key(context):
        return "No Meshy API key: add it in Preferences > Add-ons > Meshy for Blender (or set MESHY_API_KEY)."
    return ""
