#!/usr/bin/env python3
# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Measure the module's Python against the limits of its layout.

Prints, worst first:

- each file over MAX_FILE lines,
- each function over MAX_FUNCTION lines (from its ``def`` line to its end),
- each function of cyclomatic complexity over MAX_COMPLEXITY (counted as
  radon does, see complexity()),
- the import cycles between the files of the repository (relative imports,
  ``trytond.modules.account_invoice_dunning...`` and, in bench/ and
  scripts/, the imports of a sibling file; an import inside a function is
  marked ``deferred``: it still is a cycle),
- every private name of trytond it can see used: a ``_name`` imported from
  trytond, an attribute ``._name`` (or ``getattr(x, '_name')``) of an object
  that comes from trytond (``Transaction()``, ``Pool().get(...)``, a class
  imported from trytond, a variable assigned from them), and, in a class
  built on trytond's (ModelSQL, Report, PoolMeta, ...), a ``_name`` of that
  trytond hierarchy that the class calls or overrides (the names trytond
  documents, ``_order``, ``_buttons``, ``_fields``... are allowed, and so is
  a line that says ``metrics: private-ok`` and why).

Files: the top level, tests/, bench/ and scripts/ (recursively), or the
paths given.  Exit status 1 when anything is over the limits, 0 otherwise or
with --report (print only).

Usage: python scripts/metrics.py [--report] [PATH ...]
"""
import argparse
import ast
import functools
import os
import sys
from collections import defaultdict

MAX_FILE = 600
MAX_FUNCTION = 60
MAX_COMPLEXITY = 15
MODULE = 'account_invoice_dunning'
DIRECTORIES = ['tests', 'bench', 'scripts']
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {'__pycache__', '.venv', '.cache', '.git', 'results'}

# The underscore names trytond documents as API (doc/ref/models.rst, ...)
DOCUMENTED = {
    '_rec_name', '_fields', '_record', '_defaults', '_buttons',
    '_changed_values', '_transaction', '_user', '_context', '_save_values',
    '_table', '_order', '_order_name', '_history', '_sql_constraints',
    '_sql_indexes', '_history_sql_indexes', '_transition_state',
    '_transitions',
    }
# The trytond classes a PoolMeta extension may be built on
POOLMETA_BASES = ['ModelSQL', 'ModelView', 'Workflow', 'Wizard', 'Report']


def python_files(paths):
    for path in paths:
        if os.path.isfile(path):
            yield path
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for filename in sorted(filenames):
                if filename.endswith('.py'):
                    yield os.path.join(dirpath, filename)


def default_files():
    files = sorted(
        os.path.join(ROOT, f) for f in os.listdir(ROOT) if f.endswith('.py'))
    for directory in DIRECTORIES:
        if os.path.isdir(os.path.join(ROOT, directory)):
            files.extend(python_files([os.path.join(ROOT, directory)]))
    return files


def relative(path):
    return os.path.relpath(path, ROOT)


# Sizes and complexity

def functions(tree):
    "Yield (function node, qualified name) of each function"
    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                yield child, name
                yield from visit(child, name + '.')
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, prefix + child.name + '.')
            else:
                yield from visit(child, prefix)
    yield from visit(tree, '')


def complexity(function):
    """Cyclomatic complexity of function: 1 + each branch (if, ternary,
    assert, loop and its else, except and try's else, case, extra operand of
    and/or, for and if of a comprehension); a nested function counts in its
    parent.  As radon counts (flake8's mccabe counts no and/or nor
    comprehension: lower figures)"""
    result = 1
    for node in ast.walk(function):
        if isinstance(node, (ast.If, ast.IfExp, ast.Assert, ast.match_case)):
            result += 1
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            result += 1 + bool(node.orelse)
        elif isinstance(node, ast.Try):
            result += len(node.handlers) + bool(node.orelse)
        elif isinstance(node, ast.BoolOp):
            result += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            result += 1 + len(node.ifs)
    return result


# Import cycles

def module_name(path):
    "The dotted name of path from the root, '__init__' for the package"
    name = relative(path)[:-len('.py')].replace(os.sep, '.')
    if name.endswith('.__init__'):
        name = name[:-len('.__init__')]
    return name


class Imports:
    "The imports of a file that name another file of the repository"

    def __init__(self, path, names):
        self.current = module_name(path)
        self.names = names
        if self.current == '__init__':
            self.package = []
        elif path.endswith('__init__.py'):
            self.package = self.current.split('.')
        else:
            self.package = self.current.split('.')[:-1]
        directory = relative(os.path.dirname(path))
        # bench/ and scripts/ import their siblings (they are on sys.path)
        self.siblings = (directory.split(os.sep)
            if directory.split(os.sep)[0] in ('bench', 'scripts') else None)

    def resolve(self, dotted, level=0):
        "The file dotted names, None when not one of the repository"
        if level:
            base = self.package[:len(self.package) - (level - 1)]
            dotted = '.'.join(base + (dotted.split('.') if dotted else []))
            dotted = dotted or '__init__'
        else:
            prefix = 'trytond.modules.%s' % MODULE
            if dotted == prefix:
                dotted = '__init__'
            elif dotted.startswith(prefix + '.'):
                dotted = dotted[len(prefix) + 1:]
            elif self.siblings:
                dotted = '.'.join(self.siblings + dotted.split('.'))
            else:
                return None
        return dotted if dotted in self.names else None

    def targets(self, node):
        "The files an import node names"
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield self.resolve(alias.name)
        else:
            module = self.resolve(node.module, node.level)
            for alias in node.names:
                # from . import x: x may be a file
                full = '.'.join(filter(None, [node.module, alias.name]))
                yield self.resolve(full, node.level) or module

    def edges(self, tree):
        "Yield (file name, line number, deferred) of each import"
        todo = [(tree, False)]
        while todo:
            node, deferred = todo.pop()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in self.targets(node):
                    if target and target != self.current:
                        yield target, node.lineno, deferred
            inner = deferred or isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            todo.extend((c, inner) for c in ast.iter_child_nodes(node))


def import_cycles(graph):
    "Strongly connected components of more than one file, with a cycle"
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    for node in sorted(graph):
        if node not in index:
            connect(node)
    for component in components:
        yield sorted(component), shortest_cycle(graph, component)


def shortest_cycle(graph, component):
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph.get(node, {})):
            if target not in component:
                continue
            if target == start:
                return paths[node] + [start]
            if target not in paths:
                paths[target] = paths[node] + [target]
                queue.append(target)
    return [start]


# Private names of trytond

@functools.cache
def trytond_classes():
    """The private names (one underscore) of each class of trytond by class
    name, with where they are defined, and the bases of each class"""
    try:
        import trytond
    except ImportError:
        return {}, {}
    root = os.path.dirname(trytond.__file__)
    privates, bases = defaultdict(dict), defaultdict(set)
    for path in python_files([root]):
        rel = os.path.relpath(path, root).replace(os.sep, '/')
        if rel.startswith('tests/') or '/tests/' in rel:
            continue
        try:
            with open(path, encoding='utf-8') as file:
                tree = ast.parse(file.read())
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases[node.name].update(base_names(node))
            for name in defined_names(node):
                if is_private(name):
                    privates[node.name].setdefault(name, 'trytond/' + rel)
    return privates, bases


def base_names(node):
    for base in node.bases:
        while isinstance(base, ast.Call):
            base = base.func
        if isinstance(base, ast.Attribute):
            yield base.attr
        elif isinstance(base, ast.Name):
            yield base.id


def defined_names(node):
    "Names a class defines: methods, class attributes, cls./self. stores"
    for child in ast.walk(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield child.name
        elif isinstance(child, ast.Attribute) and isinstance(
                child.ctx, ast.Store):
            yield child.attr
    for child in node.body:
        if isinstance(child, ast.Assign):
            for target in child.targets:
                if isinstance(target, ast.Name):
                    yield target.id
        elif isinstance(child, ast.AnnAssign) and isinstance(
                child.target, ast.Name):
            yield child.target.id


# The comment that allows a private name on its line (a tool's shortcut)
ALLOW_PRIVATE = 'metrics: private-ok'


def is_private(name):
    return (name.startswith('_') and not name.startswith('__')
        and name not in DOCUMENTED)


class PrivateNames:
    "Find the private names of trytond a file uses"

    def __init__(self, project_names):
        self.privates, self.bases = trytond_classes()
        # Of the framework: the private names of the modules are their hooks
        self.all_privates = {}
        for names in self.privates.values():
            for name, origin in names.items():
                if not origin.startswith('trytond/modules/'):
                    self.all_privates.setdefault(name, origin)
        self.project_names = project_names

    def hierarchy(self, class_names):
        "The private names of the trytond classes and of their bases"
        result, seen, todo = {}, set(), list(class_names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for private, origin in self.privates.get(name, {}).items():
                result.setdefault(private, origin)
            todo.extend(self.bases.get(name, ()))
        return result

    def check(self, tree):
        "Yield (line number, text, origin)"
        trytond_names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and not node.level:
                yield from self.check_import_from(node, trytond_names)
            elif isinstance(node, ast.Import):
                yield from self.check_import(node, trytond_names)
        yield from self.check_scope(tree, trytond_names, {})

    def check_import_from(self, node, trytond_names):
        module = node.module or ''
        if module.split('.')[0] != 'trytond' or (module + '.').startswith(
                'trytond.modules.%s.' % MODULE):
            return
        if any(is_private(p) for p in module.split('.')):
            yield node.lineno, 'from %s import' % module, 'trytond'
        for alias in node.names:
            if is_private(alias.name):
                yield (node.lineno, 'from %s import %s' % (module, alias.name),
                    'trytond')
            trytond_names.add(alias.asname or alias.name)

    def check_import(self, node, trytond_names):
        for alias in node.names:
            parts = alias.name.split('.')
            if parts[0] != 'trytond':
                continue
            if any(is_private(p) for p in parts):
                yield node.lineno, 'import %s' % alias.name, 'trytond'
            trytond_names.add(alias.asname or parts[0])

    def rooted(self, node, names):
        "Whether the expression node comes from trytond"
        while True:
            if isinstance(node, ast.Call):
                node = node.func
            elif isinstance(node, (ast.Attribute, ast.Subscript)):
                node = node.value
            elif isinstance(node, ast.Name):
                return node.id in names
            else:
                return False

    def assigned(self, scope, names):
        "names and the variables of scope assigned from them"
        names = set(names)
        # Flow-insensitive: twice for the variables assigned from variables
        for _ in range(2):
            for node in self.scope_nodes(scope):
                if isinstance(node, ast.Assign):
                    value, targets = node.value, node.targets
                elif isinstance(node, ast.withitem):
                    value, targets = node.context_expr, [node.optional_vars]
                else:
                    continue
                if self.rooted(value, names):
                    names.update(
                        t.id for t in targets if isinstance(t, ast.Name))
        return names

    @staticmethod
    def getattr_name(node):
        "The constant name of a getattr(), setattr(), ... call or None"
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ('getattr', 'setattr', 'hasattr',
                    'delattr')
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)):
            return node.args[1].value

    def check_scope(self, scope, trytond_names, class_privates):
        names = self.assigned(scope, trytond_names)
        for node in self.scope_nodes(scope):
            if isinstance(node, ast.ClassDef):
                yield from self.check_class(node, names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                        ast.Lambda)):
                yield from self.check_scope(node, names, class_privates)
            elif isinstance(node, ast.Attribute):
                yield from self.check_attribute(
                    node.value, node.attr, node.lineno, names,
                    class_privates)
            elif self.getattr_name(node):
                name = self.getattr_name(node)
                yield from self.check_attribute(
                    node.args[0], name, node.lineno, names, class_privates,
                    '%s(..., %r)' % (node.func.id, name))

    def scope_nodes(self, scope):
        "The nodes of scope, not those of the functions and classes inside"
        todo = list(ast.iter_child_nodes(scope))
        while todo:
            node = todo.pop(0)
            yield node
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                        ast.Lambda, ast.ClassDef)):
                todo.extend(ast.iter_child_nodes(node))

    def check_attribute(self, value, attr, lineno, names, class_privates,
            text=None):
        if not is_private(attr):
            return
        text = text or '.%s' % attr
        if self.rooted(value, names):
            if attr in self.all_privates and attr not in self.project_names:
                yield lineno, text, self.all_privates[attr]
        elif class_privates and attr in class_privates and (
                self.is_self(value)):
            yield lineno, text, class_privates[attr]

    @staticmethod
    def is_self(node):
        if isinstance(node, ast.Name):
            return node.id in ('cls', 'self')
        return (isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name) and node.func.id == 'super')

    def check_class(self, node, names):
        bases = []
        for base in node.bases:
            if self.rooted(base, names):
                bases.extend(base_names(ast.ClassDef(bases=[base])))
        if any(k.arg == 'metaclass' and self.rooted(k.value, names)
                for k in node.keywords):
            bases.extend(POOLMETA_BASES)
        class_privates = self.hierarchy(bases) if bases else {}
        own = set(defined_names(node)) - set(class_privates)
        for child in node.body:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    child.name in class_privates):
                yield (child.lineno, 'def %s (overrides)' % child.name,
                    class_privates[child.name])
        class_privates = {k: v for k, v in class_privates.items()
            if k not in own}
        yield from self.check_scope(node, names, class_privates)


# Report

def parse(files):
    "(lines, tree) of each file"
    trees = {}
    for path in files:
        with open(path, encoding='utf-8') as file:
            source = file.read()
        try:
            trees[path] = (source.count('\n'), ast.parse(source, path))
        except SyntaxError as exception:
            print("%s: syntax error: %s" % (relative(path), exception))
    return trees


def sizes(trees):
    "The files, the functions too long and the functions too complex"
    long_files, long_functions, complex_functions = [], [], []
    for path, (lines, tree) in trees.items():
        if lines > MAX_FILE:
            long_files.append((lines, relative(path)))
        for node, name in functions(tree):
            where = '%s:%s' % (relative(path), node.lineno)
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION:
                long_functions.append((length, where, name))
            value = complexity(node)
            if value > MAX_COMPLEXITY:
                complex_functions.append((value, where, name))
    return (sorted(long_files, reverse=True),
        sorted(long_functions, key=lambda r: (-r[0], r[1])),
        sorted(complex_functions, key=lambda r: (-r[0], r[1])))


def cycles(trees):
    "The import cycles, each as its files and the steps of one cycle"
    names = {module_name(p): p for p in trees}
    graph = defaultdict(dict)
    for path, (_, tree) in trees.items():
        source = module_name(path)
        graph.setdefault(source, {})
        for target, lineno, deferred in Imports(path, names).edges(tree):
            # A module-level import is the one to show
            if graph[source].get(target, (0, True))[1]:
                graph[source][target] = (lineno, deferred)
    result = []
    for component, cycle in import_cycles(graph):
        steps = []
        for source, target in zip(cycle, cycle[1:]):
            lineno, deferred = graph[source][target]
            steps.append('%s -> %s (%s:%s%s)' % (
                source, target, relative(names[source]), lineno,
                ', deferred' if deferred else ''))
        result.append((component, steps))
    return result


def privates(files, trees):
    "The private names of trytond used by files"
    project_names = set()
    for _, tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                project_names.update(defined_names(node))
    checker = PrivateNames(project_names)
    result = []
    for path in files:
        if path in trees:
            with open(path, encoding='utf-8') as file:
                lines = file.read().splitlines()
            for lineno, text, origin in sorted(
                    set(checker.check(trees[path][1]))):
                if ALLOW_PRIVATE in lines[lineno - 1]:
                    continue
                result.append(
                    ('%s:%s' % (relative(path), lineno), text, origin))
    return result


def report(files, trees):
    "The sections of the report: (title, rows)"
    long_files, long_functions, complex_functions = sizes(trees)
    # Import cycles over all the repository's files, whatever is measured
    trees.update(parse(p for p in default_files() if p not in trees))

    def rows(format, items):
        return [format % item for item in items]
    return [
        ("Files over %s lines" % MAX_FILE, rows("%5d  %s", long_files)),
        ("Functions over %s lines" % MAX_FUNCTION,
            rows("%5d  %s  %s", long_functions)),
        ("Functions of complexity over %s" % MAX_COMPLEXITY,
            rows("%5d  %s  %s", complex_functions)),
        ("Import cycles", rows("%s: %s", (
                    (', '.join(c), '; '.join(s)) for c, s in cycles(trees)))),
        ("Private names of trytond",
            rows("%s  %s  [%s]", privates(files, trees))),
        ]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0])
    parser.add_argument('--report', action='store_true',
        help="only print: exit status 0 whatever is over the limits")
    parser.add_argument('paths', nargs='*', help="files or directories")
    args = parser.parse_args()
    files = (list(python_files(os.path.abspath(p) for p in args.paths))
        if args.paths else default_files())
    trees = parse(files)
    sections = report(files, trees)
    print("=== Metrics (limits: file %s lines, function %s lines, "
        "complexity %s)" % (MAX_FILE, MAX_FUNCTION, MAX_COMPLEXITY))
    for title, rows in sections:
        print("%s: %s" % (title, len(rows) or "none"))
        for row in rows:
            print("  " + row)
    count = sum(len(rows) for _, rows in sections)
    print("=== Metrics: %s" % (
            "%s over the limits" % count if count else "all within limits"))
    return 1 if count and not args.report else 0


if __name__ == '__main__':
    sys.exit(main())
