"""`journal verify` holds the live database against the manifests of this till's backups (store.backup).

Apart from tui/cli/backup.py, which imports the back office's helpers: the back office imports this.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, List


def manifest_findings(settings: Any) -> List[str]:
    """What the manifests of this till's backups (backup folder and second place) say against the live database.

    For ``journal verify``; the database must be open. A backup holding a record the live database lost
    is a cut; a manifest whose seal is wrong was changed.
    """
    from store.backup import check_manifests

    folders = [settings.backup.dir] + ([settings.backup.second_dir] if settings.backup.second_dir else [])
    return [finding for folder in folders
            for finding in check_manifests(Path(folder), settings.shop.name, settings.till.id)]


def findings_text(findings: List[str]) -> str:
    """The first finding, and how many more: one sentence."""
    more = len(findings) - 1
    return findings[0].rstrip(".") + (f" (and {more} more backup finding{'' if more == 1 else 's'})" if more else "")
