# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The bench compares the times of both modules only on the same work:
the same invoices reminded at the same levels (bench/README.rst, *The
data*)."""
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'bench')


@pytest.fixture(scope='module')
def bench():
    sys.path.insert(0, BENCH)
    try:
        import steps

        import report
        yield report, steps
    finally:
        sys.path.remove(BENCH)


def result(seconds, pairs, steps):
    return {'seconds': seconds, 'peak_rss_mb': 100, 'rss_before_mb': 90,
        'reminders': len(pairs), 'invoices': len({i for i, _ in pairs}),
        'work': steps.work_digest(pairs)}


def test_ratio_of_same_work(bench):
    "Both modules remind the same (invoice, level) pairs: a ratio"
    report, steps = bench
    pairs = [(1, 1), (2, 1), (3, 2)]
    summary = report.summarize({
            'ours': {'generate': [result(1., pairs, steps)]},
            # Core's pairs in another order: the same work
            'core': {'generate': [result(4., pairs[::-1], steps)]},
            }, ['generate'])
    assert summary['generate']['ratio_core_ours'] == 4.
    assert 'different_work' not in summary['generate']


def test_paired_ratios(bench, capsys):
    """Each run of core against the run of ours of the same repeat: a
    machine twice as fast in the last repeat changes the ratio of the
    medians, not the ratio of each repeat"""
    report, steps = bench
    pairs = [(1, 1), (2, 1)]

    def runs(*seconds):
        return [result(s, pairs, steps) for s in seconds]
    summary = report.summarize({
            'ours': {'escalate': runs(2., 2., 1.)},
            'core': {'escalate': runs(20., 20., 10.)},
            }, ['escalate'])
    row = summary['escalate']
    assert row['ratio_core_ours'] == 10.
    assert row['paired_ratios'] == [10., 10., 10.]
    assert row['paired_ratio_core_ours'] == 10.
    # The machine's speed changed between the repeats: the medians pair
    # ours's 2 s with core's 20 s (10); the repeats say 5, 15 and 20
    summary = report.summarize({
            'ours': {'escalate': runs(2., 2., 1.)},
            'core': {'escalate': runs(10., 30., 20.)},
            }, ['escalate'])
    row = summary['escalate']
    assert row['ratio_core_ours'] == 10.
    assert row['paired_ratios'] == [5., 15., 20.]
    assert row['paired_ratio_core_ours'] == 15.
    report.print_paired_ratios(summary)
    assert capsys.readouterr().out == (
        "escalate: core/ours run by run 5.00, 15.00, 20.00, median 15.00\n")


def test_no_paired_ratios_of_other_runs(bench):
    "A module with fewer runs than the other (a failed run): no pairing"
    report, steps = bench
    pairs = [(1, 1)]
    summary = report.summarize({
            'ours': {'generate': [result(1., pairs, steps)] * 3},
            'core': {'generate': [result(3., pairs, steps)] * 2},
            }, ['generate'])
    assert summary['generate']['ratio_core_ours'] == 3.
    assert 'paired_ratios' not in summary['generate']


def test_no_paired_ratios_of_one_run(bench):
    "One run of each: the ratio of the medians only"
    report, steps = bench
    summary = report.summarize({
            'ours': {'generate': [result(1., [(1, 1)], steps)]},
            'core': {'generate': [result(3., [(1, 1)], steps)]},
            }, ['generate'])
    assert summary['generate']['ratio_core_ours'] == 3.
    assert 'paired_ratios' not in summary['generate']


@pytest.mark.parametrize('core_pairs', [
        # Another invoice, the same count
        [(1, 1), (2, 1), (4, 2)],
        # The same invoices, another level
        [(1, 1), (2, 2), (3, 2)],
        # One reminder more (an invoice dunned twice)
        [(1, 1), (2, 1), (3, 2), (3, 2)],
        ])
def test_no_ratio_of_different_work(bench, core_pairs):
    "The modules remind other invoices or levels: no ratio, both counts"
    report, steps = bench
    summary = report.summarize({
            'ours': {'generate': [result(1., [(1, 1), (2, 1), (3, 2)],
                            steps)]},
            'core': {'generate': [result(4., core_pairs, steps)]},
            }, ['generate'])
    row = summary['generate']
    assert 'ratio_core_ours' not in row
    assert row['different_work']
    assert row['core']['reminders'] == len(core_pairs)


def test_no_ratio_without_work(bench):
    "A step that does not count its work (an older copy): no ratio"
    report, steps = bench
    ours = result(1., [(1, 1)], steps)
    core = result(2., [(1, 1)], steps)
    del ours['work'], core['work']
    summary = report.summarize({'ours': {'process': [ours]},
            'core': {'process': [core]}}, ['process'])
    assert 'ratio_core_ours' not in summary['process']


def test_workers_speedup(bench, capsys):
    """(g): the letters per second of each number of workers, processing
    included and from the commit of processing, and the speed-up of each
    over one worker"""
    report, steps = bench

    def workers(count, seconds, queue_seconds):
        return dict(result(seconds, [(1, 1)] * 30, steps), letters=12,
            workers=count, pending=0, after_commit_seconds=queue_seconds)
    summary = report.summarize({'ours': {
                'workers1': [workers(1, 6., 4.), workers(1, 5., 3.),
                    workers(1, 7., 5.)],
                'workers2': [workers(2, 4., 2.), workers(2, 3., 2.)],
                }}, ['workers1', 'workers2'])
    one, two = summary['workers1']['ours'], summary['workers2']['ours']
    assert one['letters_per_second'] == 2.
    assert one['queue_seconds'] == 4.
    assert one['queue_letters_per_second'] == 3.
    assert two['queue_runs'] == [2., 2.]
    assert two['queue_letters_per_second'] == 6.
    report.print_workers_speedup(summary)
    assert capsys.readouterr().out == (
        "speed-up with 2 workers: 1.70 processing included, 2.00 from the "
        "commit of processing\n")
