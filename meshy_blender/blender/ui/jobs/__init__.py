"""The Jobs panel's pages and its per-job buttons (cancel, retry, import, re-import…)."""
