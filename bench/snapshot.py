# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The copy of the module that a run imports: a run builds and measures one
version of the module even when its files are edited meanwhile, and
--module-snapshot runs an earlier copy again."""
import hashlib
import os
import shutil
import sys
import time

from base import CACHE_DIR, MODULE, ROOT


def module_files(root):
    "The files of the module (what Tryton loads), relative to root"
    paths = []
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        parts = rel.split(os.sep)
        if parts[0] in {'bench', 'tests', 'scripts', 'doc', 'build', 'dist',
                    'demo-output', 'screenshots'} \
                or any(p.startswith('.') and p != '.' for p in parts) \
                or any(p.endswith('.egg-info') or p == '__pycache__'
                    for p in parts):
            dirs[:] = []
            continue
        for name in files:
            if not name.endswith(('.pyc', '.orig', '.rej', '~')):
                paths.append(os.path.normpath(os.path.join(rel, name)))
    return sorted(paths)


def module_hash(root=ROOT):
    "Hash of the module's python and xml files (and tryton.cfg)"
    digest = hashlib.sha256()
    for path in module_files(root):
        if not (path.endswith(('.py', '.xml')) or path == 'tryton.cfg'):
            continue
        digest.update(path.encode())
        with open(os.path.join(root, path), 'rb') as fp:
            digest.update(hashlib.sha256(fp.read()).digest())
    return digest.hexdigest()[:12]


def take_snapshot():
    """Copy the module to bench/.cache/module-HASH and return (path, hash)

    The workers import this copy: a run builds and measures one version of
    the module even when its files are edited meanwhile."""
    for _ in range(5):
        digest = module_hash()
        path = os.path.join(CACHE_DIR, 'module-%s' % digest)
        if os.path.exists(path) and module_hash(path) == digest:
            return path, digest
        tmp = path + '.tmp%d' % os.getpid()
        shutil.rmtree(tmp, ignore_errors=True)
        for rel in module_files(ROOT):
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)),
                exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(tmp, rel))
        if module_hash(tmp) == digest:
            shutil.rmtree(path, ignore_errors=True)
            os.replace(tmp, path)
            return path, digest
        shutil.rmtree(tmp, ignore_errors=True)
        time.sleep(2)
    raise SystemExit("The module keeps changing: can not snapshot it")


def use_snapshot(path):
    "Import trytond.modules.account_invoice_dunning from path"
    import importlib.util
    name = 'trytond.modules.' + MODULE

    class SnapshotFinder:
        @classmethod
        def find_spec(cls, fullname, target_path=None, target=None):
            if fullname == name:
                return importlib.util.spec_from_file_location(name,
                    os.path.join(path, '__init__.py'),
                    submodule_search_locations=[path])
    sys.meta_path.insert(0, SnapshotFinder)


def snapshot_of(digest):
    "The path of the earlier copy of hash digest, None if there is none"
    module_path = os.path.join(CACHE_DIR, 'module-%s' % digest)
    if not os.path.isdir(module_path) or module_hash(module_path) != digest:
        return None
    return module_path
