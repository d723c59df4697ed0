"""Backups: `chaoying backup [--to DIR]`, `backup verify FILE`, `backup list`, `restore FILE --to PATH`.

The work is store.backup's; here are the arguments, the settings and the sentences.
A backup's manifest is sealed with the journal key: verify and restore refuse a
manifest whose seal does not match, and one they cannot prove (no seal, or the
key not loaded) unless --force.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, List

from tui.cli.backoffice import _add, _error, _print_json, _print_table, _settings, plural
from tui.cli.common import check_output, load_journal_key, load_settings

FORCE_HELP = ("use a backup whose manifest cannot be proved: it has no seal (made while the journal key was "
              "missing) or the key is not loaded; never one whose seal does not match")


def register(sub) -> None:
    """Add backup (with verify and list) and restore."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS,
        help="settings file (TOML); same as chaoying --config PATH",
    )
    backup = _add(sub, "backup", common, "back up the database now, while tills sell (and verify or list backups)")
    backup.add_argument("--to", metavar="DIR", help="backup folder (default: [backup] dir from the settings)")
    backup.set_defaults(handler=cmd_backup)
    actions = backup.add_subparsers(dest="action", metavar="ACTION")
    p = _add(actions, "verify", common, "check a backup: its manifest's seal, integrity check, the copy's heads and "
                                        "its full journal check")
    p.add_argument("file", metavar="FILE", help="a backup file (.db.gz or .pgdump) or its manifest (.json)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.set_defaults(handler=cmd_backup_verify)
    p = _add(actions, "list", common, "list the backups in the backup folder")
    p.add_argument("--dir", metavar="DIR", help="backup folder (default: [backup] dir from the settings)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_backup_list)

    p = _add(sub, "restore", common, "restore a backup into a new database file, after checking it")
    p.add_argument("file", metavar="FILE", help="a backup file (.db.gz) or its manifest (.json)")
    p.add_argument("--to", metavar="PATH", required=True, help="the new database file (must not exist)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.set_defaults(handler=cmd_restore)


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size:.1f} GB"


def cmd_backup(args: argparse.Namespace) -> int:
    """One backup now, into --to or [backup] dir, a copy into [backup] second_dir; rotate both."""
    from store.backup import BackupError, create_backup
    from tui.cli.common import require_database

    settings = _settings(args)
    require_database(settings.database.url)
    load_journal_key(settings)  # the manifest is sealed with it
    target = Path(args.to).expanduser() if args.to else Path(settings.backup.dir)
    second = Path(settings.backup.second_dir) if settings.backup.second_dir else None
    try:
        result = create_backup(settings.database.url, target, settings.shop.name, settings.till.id,
                               settings.backup.keep_daily, settings.backup.keep_monthly, second)
    except BackupError as exc:
        raise _error(f"backup failed: {exc}; no backup was made", 1) from None
    for warning in result.warnings:
        print(f"chaoying: warning: {warning}", file=sys.stderr)
    if result.swept:
        print(f"removed {plural(len(result.swept), 'unfinished backup folder')} left by backups that were stopped "
              f"({_size(result.swept_bytes)})")
    manifest = result.manifest
    print(f"backed up {plural(int(manifest.get('sales', 0)), 'sale')} to {result.path} "
          f"({_size(result.path.stat().st_size)})")
    for copy in result.copies:
        print(f"copied to {copy}")
    if result.removed:
        print(f"removed {plural(len(result.removed), 'old backup')} (keep {settings.backup.keep_daily} daily, "
              f"{settings.backup.keep_monthly} monthly)")
    return 0


def cmd_backup_verify(args: argparse.Namespace) -> int:
    from store.backup import BackupError, verify_backup

    load_journal_key(load_settings(args))  # a backup is read on a new PC too, before any shop is made there
    try:
        checked = verify_backup(Path(args.file), force=args.force)
    except BackupError as exc:
        # Without its manifest a backup may still restore (the copy is checked then): it is unverified, not unusable.
        unverified = exc.code in ("backup_manifest_missing", "backup_unproven")
        raise _error(f"{'backup not verified' if unverified else 'backup not usable'}: {_with_force(exc)}", 1) from None
    verdict = "backup ok" if not checked.unproven else "backup checked but not proved"
    if checked.journal_checked:
        print(f"{verdict}: {checked.path}: {_sealed(checked)}integrity check ok, journal ok, "
              f"{plural(checked.sales, 'sale')} on {plural(checked.tills, 'till')}")
    else:
        print(f"{'backup readable' if not checked.unproven else verdict}: {checked.path}: {_sealed(checked)}"
              f"pg_restore reads it whole, {plural(checked.sales, 'sale')} in its manifest (restore it to check "
              f"the journal)")
    return 0


def _with_force(exc: Exception) -> str:
    """The refusal, and for one that --force overrides, that it does."""
    text = str(exc).rstrip(".")
    return text + "; --force uses it anyway" if getattr(exc, "code", "") == "backup_unproven" else text


def _sealed(checked: Any) -> str:
    return "manifest sealed, " if not checked.unproven else f"{checked.unproven}; "


def cmd_backup_list(args: argparse.Namespace) -> int:
    from store.backup import BackupError, list_backups

    settings = load_settings(args)
    folder = Path(args.dir).expanduser() if args.dir else Path(settings.backup.dir)
    try:
        found = list_backups(folder)
    except BackupError as exc:
        raise _error(str(exc), 1) from None
    rows: List[Dict[str, Any]] = []
    for info in found:
        manifest = info.manifest or {}
        rows.append({"file": info.path.name, "path": str(info.path), "created": info.created.isoformat(sep=" "),
                     "size": info.size, "sales": manifest.get("sales"), "shop": manifest.get("shop"),
                     "till": manifest.get("till")})
    if args.json:
        _print_json(rows)
        return 0
    if rows:
        _print_table(["created", "size", "sales", "file"],
                     [[r["created"], _size(r["size"]), "" if r["sales"] is None else str(r["sales"]), r["file"]]
                      for r in rows], right=(1, 2))
    print(f"{plural(len(rows), 'backup')} in {folder}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from store.backup import BackupError, restore_backup

    settings = load_settings(args)
    target = check_output(args.to, True, settings)  # an existing file: restore_backup refuses it in its words
    load_journal_key(settings)
    try:
        restored = restore_backup(Path(args.file), target, force=args.force)
    except BackupError as exc:
        raise _error(f"nothing restored: {_with_force(exc)}", 1) from None
    proof = "manifest sealed, integrity and journal ok" if not restored.unproven else (
        f"integrity and journal ok, but not proved: {restored.unproven}")
    print(f"restored {plural(restored.sales, 'sale')} into {restored.path} (verified: {proof}); "
          f"point [database] url at it to use it")
    return 0

