# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"scripts/metrics.py finds what is over the limits, on a repository of its own"
import contextlib
import importlib.util
import io
import os
import sys
import textwrap

import pytest

SCRIPT = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), 'scripts', 'metrics.py')


@pytest.fixture(scope='module')
def script():
    spec = importlib.util.spec_from_file_location('metrics', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def metrics(script, tmp_path, monkeypatch):
    monkeypatch.setattr(script, 'ROOT', str(tmp_path))
    return script


def write(root, files):
    for path, text in files.items():
        path = root / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def run(metrics, *args):
    output = io.StringIO()
    argv = sys.argv
    sys.argv = ['metrics.py'] + list(args)
    try:
        with contextlib.redirect_stdout(output):
            status = metrics.main()
    finally:
        sys.argv = argv
    return status, output.getvalue()


def test_clean(metrics, tmp_path):
    write(tmp_path, {
            '__init__.py': "from . import a\n",
            'a.py': "from trytond.pool import Pool\n\n\n"
            "def f():\n    return Pool().get('ir.date')._order\n",
            })
    status, output = run(metrics)
    assert status == 0
    assert "all within limits" in output


def test_sizes(metrics, tmp_path):
    body = ''.join("    x = %s\n" % i for i in range(metrics.MAX_FUNCTION))
    branches = ''.join(
        "    if x == %s and y:\n        pass\n" % i
        for i in range(metrics.MAX_COMPLEXITY // 2))
    write(tmp_path, {
            'big.py': "\n" * metrics.MAX_FILE + "x = 1\n",
            'long.py': "def long():\n" + body,
            'complex.py': "def branchy(x, y):\n" + branches,
            })
    status, output = run(metrics)
    assert status == 1
    assert "%5d  big.py" % (metrics.MAX_FILE + 1) in output
    assert "long.py:1  long" in output
    # 1 + 7 if + 7 and: at the limit
    assert "complex.py" not in output
    status, output = run(metrics, '--report')
    assert status == 0
    assert "2 over the limits" in output


def test_complexity(metrics, tmp_path):
    branches = ''.join(
        "    if x == %s and y:\n        pass\n" % i for i in range(8))
    write(tmp_path, {'complex.py': "def branchy(x, y):\n" + branches})
    status, output = run(metrics)
    assert status == 1
    # 1 + 8 if + 8 and
    assert "   17  complex.py:1  branchy" in output


def test_import_cycles(metrics, tmp_path):
    write(tmp_path, {
            '__init__.py': "from . import a, b\n",
            'a.py': "from .b import x\n",
            'b.py': "def x():\n    from . import a\n    return a\n",
            'tests/__init__.py': "",
            'tests/test_a.py':
            "from trytond.modules.account_invoice_dunning.b import x\n",
            'scripts/one.py': "import two\n",
            'scripts/two.py': "from one import y\n",
            })
    status, output = run(metrics)
    assert status == 1
    assert "Import cycles: 2" in output
    assert "a -> b (a.py:1); b -> a (b.py:2, deferred)" in output
    assert "scripts.one -> scripts.two" in output


def test_private_names(metrics, tmp_path):
    write(tmp_path, {
            'a.py': '''\
            from trytond.model import ModelSQL
            from trytond.pool import Pool, PoolMeta
            from trytond.report import Report
            from trytond.transaction import Transaction, _private


            def f():
                transaction = Transaction()
                getattr(transaction, '_store_log_records', None)
                Model = Pool().get('ir.model')
                return Model._own(), Model._order


            class Letter(Report):
                @classmethod
                def _get_records(cls, ids, model, data):
                    return super()._get_records(ids, model, data)

                @classmethod
                def header(cls, record, data):
                    return cls.header_key(record, data)


            class Party(metaclass=PoolMeta):
                __name__ = 'party.party'

                @classmethod
                def _own(cls):
                    return cls._buttons, cls._validate([])


            class Mine(ModelSQL):
                pass
            ''',
            })
    status, output = run(metrics)
    assert status == 1
    lines = [
        line.strip() for line in output.splitlines()
        if line.startswith('  a.py')]
    assert lines == [
        "a.py:4  from trytond.transaction import _private  [trytond]",
        "a.py:9  getattr(..., '_store_log_records')  "
        "[trytond/transaction.py]",
        "a.py:16  def _get_records (overrides)  [trytond/report/report.py]",
        "a.py:17  ._get_records  [trytond/report/report.py]",
        "a.py:29  ._validate  [trytond/model/modelstorage.py]",
        ]
