# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What a run reports: the medians of the steps (summarize), the table and
the lines printed (print_table) and the JSON file (write_json)."""
import datetime as dt
import json
import os
import platform
import statistics

from base import OURS_ONLY, RESULTS_DIR, STEP_TITLES
from board import median_reads, print_board


def machine_facts(store):
    from importlib.metadata import version
    facts = {
        'nproc': os.cpu_count(),
        'cpu': platform.processor() or platform.machine(),
        'python': platform.python_version(),
        'platform': platform.platform(),
        'trytond': version('trytond'),
        'module_hash': getattr(store, 'module_hash', None),
        'trytond_account_invoice': version('trytond_account_invoice'),
        'trytond_account_dunning': version('trytond_account_dunning'),
        'backend': store.backend,
        'run_at': dt.datetime.now().isoformat(timespec='seconds'),
        'load_average_at_end': [round(x, 2) for x in os.getloadavg()],
        }
    try:
        with open('/proc/cpuinfo') as fp:
            for line in fp:
                if line.startswith('model name'):
                    facts['cpu'] = line.split(':', 1)[1].strip()
                    break
        with open('/proc/meminfo') as fp:
            facts['memory_gb'] = round(int(fp.readline().split()[1])
                / 1024 / 1024, 1)
    except OSError:
        pass
    facts.update(store.facts())
    return facts


def summarize(runs, steps):
    "The medians of the runs of each step of each module"
    summary = {}
    for step in steps:
        row = {}
        for module, by_step in runs.items():
            results = by_step.get(step) or []
            if results:
                row[module] = summary_entry(step, results)
        if (row.get('ours', {}).get('seconds')
                and row.get('core', {}).get('seconds')):
            if same_work(row['ours'], row['core']):
                row['ratio_core_ours'] = round(
                    row['core']['seconds'] / row['ours']['seconds'], 2)
                row.update(paired_ratios(row['ours'], row['core']))
            else:
                row['different_work'] = True
        summary[step] = row
    return summary


def paired_ratios(ours, core):
    """The ratio of each run of core to the run of ours of the same repeat
    (run just before it) and their median: steadier than the ratio of the
    medians when the machine's speed changes from one repeat to the next"""
    ours_runs, core_runs = ours.get('runs') or [], core.get('runs') or []
    pairs = list(zip(ours_runs, core_runs))
    if (len(pairs) < 2 or len(ours_runs) != len(core_runs)
            or not all(o for o, _ in pairs)):
        return {}
    ratios = [round(c / o, 2) for o, c in pairs]
    return {'paired_ratios': ratios,
        'paired_ratio_core_ours': round(statistics.median(ratios), 2)}


def same_work(ours, core):
    """Whether both modules reminded the same invoices at the same levels
    (steps.work_digest): a ratio of the times of different work says
    nothing"""
    return (ours.get('work') is not None
        and ours.get('work') == core.get('work')
        and ours.get('reminders') == core.get('reminders'))


def summary_entry(step, results):
    "The summary of the results of the runs of a step of a module"
    failed = [r for r in results if 'error' in r]
    if failed:
        return {'error': failed[-1]['error'],
            'failed_after_seconds': round(failed[-1]['seconds'], 3),
            'failed_runs': len(failed), 'runs': len(results)}
    times = [r['seconds'] for r in results]
    median = statistics.median(times)
    last = results[-1]
    entry = {
        'seconds': round(median, 3),
        'runs': [round(t, 3) for t in times],
        'reminders': last.get('reminders'),
        'invoices': last.get('invoices'),
        'levels': last.get('levels'),
        'work': last.get('work'),
        'peak_rss_mb': max(r['peak_rss_mb'] for r in results),
        'rss_growth_mb': round(max(r['peak_rss_mb']
                - r['rss_before_mb'] for r in results), 1),
        'attempts': last.get('attempts'),
        'queries': last.get('queries'),
        }
    for key in ['changes', 'parties', 'segments', 'interest', 'promised',
            'broken', 'indemnity', 'with_interest', 'disputed', 'planned',
            'broken_promises', 'broken_plans']:
        if key in last:
            entry[key] = last[key]
    entry.update(step_entry(step, results, median))
    for key in ['profile', 'workaround', 'letters_skipped']:
        if key in last:
            entry[key] = last[key]
    return entry


def step_entry(step, results, median):
    "What the summary of step adds: its letters, its emails or its reads"
    if step.startswith('workers') or step == 'letters':
        return letters_entry(step, results, median)
    if step == 'emails':
        return emails_entry(results)
    if 'reads' in results[-1]:
        return {'reads': median_reads(results)}
    return {}


def letters_entry(step, results, median):
    "The letters of the summary of step (c) or (g)"
    last = results[-1]
    entry = {'letters': last.get('letters')}
    if step.startswith('workers'):
        entry['workers'] = last.get('workers')
        entry['pending'] = last.get('pending')
        # From the commit of processing to the last letter archived: the
        # letters of the workers alone
        queue = [r['after_commit_seconds'] for r in results
            if 'after_commit_seconds' in r]
        if queue:
            entry['queue_seconds'] = round(statistics.median(queue), 3)
            entry['queue_runs'] = [round(t, 3) for t in queue]
            entry['queue_letters_per_second'] = round(
                last.get('letters', 0) / entry['queue_seconds'], 1)
    else:
        entry['dunnings_on_letter'] = last.get('dunnings_on_letter')
        entry['render_seconds'] = statistics.median(
            r['render_seconds'] for r in results)
        entry['letter_format'] = last.get('letter_format')
        entry['letter_bytes'] = last.get('letter_bytes')
    entry['letters_per_second'] = round(
        last.get('letters', 0) / median, 1) if median else None
    # What the customers receive: their reminders, in one letter each
    entry['reminders_per_second'] = round(
        last.get('reminders', 0) / median, 1) if median else None
    return entry


def emails_entry(results):
    "The emails of the summary of step (h), sent per second"
    last = results[-1]
    seconds = statistics.median(r['send_seconds'] for r in results)
    copies = statistics.median(r['copies_seconds'] for r in results)

    def rate(seconds):
        return round(last.get('sent', 0) / seconds, 1) if seconds else None
    return {'emails': last.get('emails'), 'sent': last.get('sent'),
        'received': last.get('received'), 'send_seconds': seconds,
        'copies': last.get('copies'), 'copies_seconds': copies,
        'emails_per_second': rate(seconds),
        'emails_per_second_copies_cached': rate(seconds - copies)}


def step_title(step):
    if step.startswith('workers'):
        return "(g) letters by %s worker(s)" % step[len('workers'):]
    return STEP_TITLES[step]


def print_table(summary, args, meta):
    "Print the table of the steps, then what it does not show"
    def fmt(value, spec='%.2f'):
        return spec % value if value is not None else '-'

    def seconds(entry):
        return 'FAILED' if 'error' in entry else fmt(entry.get('seconds'))
    print()
    print("N=%d invoices, %d customers, %s, D=%s, median of %d run(s)%s"
        % (args.invoices, meta['data']['customers'], args.backend,
            args.date, args.repeat, ', python -O' if args.optimize else ''))
    header = ("%-28s | %9s | %9s | %9s | %14s | %14s | %9s | %9s | %7s"
        % ("step", "ours (s)", "core (s)", "core/ours", "reminders ours",
            "reminders core", "peak ours", "peak core", "queries"))
    print(header)
    print('-' * len(header))
    for step, row in summary.items():
        ours, core = row.get('ours', {}), row.get('core', {})
        print("%-28s | %9s | %9s | %9s | %14s | %14s | %9s | %9s | %7s"
            % (step_title(step),
                seconds(ours), 'n/a' if step in OURS_ONLY else seconds(core),
                ('differs' if row.get('different_work')
                    else fmt(row.get('ratio_core_ours'))),
                ours.get('reminders') or '-', core.get('reminders') or '-',
                fmt(ours.get('peak_rss_mb'), '%.0f MB'),
                fmt(core.get('peak_rss_mb'), '%.0f MB'),
                ours.get('queries', '-')))
    print_failures(summary)
    print_paired_ratios(summary)
    print_different_work(summary)
    print_letters(summary)
    print_emails(summary)
    print_ours_only(summary)
    print_board(summary, args.backend, args.invoices)
    print_levels(summary)


def print_failures(summary):
    for step, row in summary.items():
        for module in ['ours', 'core']:
            entry = row.get(module, {})
            if 'error' in entry:
                print("%s %s: FAILED after %.1f s: %s" % (
                        step, module, entry['failed_after_seconds'],
                        entry['error']))
    workarounds = {e['workaround'] for row in summary.values()
        for e in row.values() if isinstance(e, dict) and 'workaround' in e}
    for workaround in workarounds:
        print("WORKAROUND: %s" % workaround)


def print_paired_ratios(summary):
    "The ratio of each repeat's runs, beside the ratio of the medians"
    for step, row in summary.items():
        if 'paired_ratios' in row:
            print("%s: core/ours run by run %s, median %.2f" % (
                    step, ', '.join('%.2f' % r for r in row['paired_ratios']),
                    row['paired_ratio_core_ours']))


def print_different_work(summary):
    "Why a step has no ratio: the reminders of both modules differ"
    for step, row in summary.items():
        if row.get('different_work'):
            ours, core = row['ours'], row['core']
            print("%s: no ratio, not the same work: ours %s reminders on %s "
                "invoices (levels %s), core %s on %s (levels %s)" % (
                    step, ours.get('reminders'), ours.get('invoices'),
                    ours.get('levels'), core.get('reminders'),
                    core.get('invoices'), core.get('levels')))


def print_workers_speedup(summary):
    "The speed-up of (g) with each number of workers over one worker"
    rates = {}
    for step, row in summary.items():
        entry = row.get('ours')
        if step.startswith('workers') and entry and 'error' not in entry:
            rates[entry['workers']] = (entry['letters_per_second'],
                entry.get('queue_letters_per_second'))
    if 1 not in rates:
        return
    for workers in sorted(rates):
        if workers == 1:
            continue
        (whole, queue), (whole_1, queue_1) = rates[workers], rates[1]
        print("speed-up with %d workers: %.2f processing included, %s "
            "from the commit of processing" % (workers, whole / whole_1,
                '%.2f' % (queue / queue_1) if queue and queue_1 else '-'))


def print_letters(summary):
    "The letters per second of (g), then of (c)"
    for step, row in summary.items():
        entry = row.get('ours')
        if step.startswith('workers') and entry and 'error' not in entry:
            print("letters/s with %d trytond-worker process(es): %6.1f  "
                "(%d letters for %d reminders, processing included); "
                "%6.1f from the commit of processing (%.2f s)" % (
                    entry['workers'], entry['letters_per_second'],
                    entry['letters'], entry['reminders'],
                    entry.get('queue_letters_per_second') or 0,
                    entry.get('queue_seconds') or 0))
    print_workers_speedup(summary)
    if 'letters' in summary:
        row = summary['letters']
        rates = {}
        for module in ['ours', 'core']:
            if module in row and 'error' not in row[module]:
                entry = row[module]
                rates[module] = entry.get('reminders_per_second')
                print("reminders/s %-4s: %6.1f  (%d reminders in %d "
                    "documents rendered, %d letters/s, %s; rendering alone "
                    "%.2f s)" % (module, entry.get('reminders_per_second')
                        or 0, entry['reminders'], entry['letters'],
                        entry['letters_per_second'], entry['letter_format'],
                        entry['render_seconds']))
        if row.get('different_work'):
            print("reminders/s ours/core: no ratio, the modules reminded "
                "different invoices or levels")
        elif rates.get('ours') and rates.get('core'):
            print("reminders/s ours/core: %.2f" % (
                    rates['ours'] / rates['core']))


def print_emails(summary):
    "The emails per second of (h)"
    entry = summary.get('emails', {}).get('ours')
    if entry and 'error' not in entry:
        print("emails/s: %6.1f  (%d of %d emails sent in %.2f s to the local "
            "SMTP server, which received %d, for %d reminders; processing "
            "and queueing included, %.2f s in all)" % (
                entry['emails_per_second'] or 0, entry['sent'],
                entry['emails'], entry['send_seconds'], entry['received'],
                entry['reminders'], entry['seconds']))
        print("emails/s: %6.1f  with the invoice copies in Tryton's cache "
            "(%d copies rendered by Tryton's invoice report in %.2f s)" % (
                entry['emails_per_second_copies_cached'] or 0,
                entry['copies'], entry['copies_seconds']))


def print_ours_only(summary):
    "What (e) and (f) computed"
    entry = summary.get('penalties', {}).get('ours')
    if entry and 'error' not in entry:
        print("penalties: %d overdue invoices, %d with interest: interest "
            "%s, indemnities %s" % (entry['invoices'], entry['with_interest'],
                entry['interest'], entry['indemnity']))
    entry = summary.get('classify', {}).get('ours')
    if entry and 'error' not in entry:
        print("segments: %d changes, %d parties classified: %s" % (
                entry['changes'], entry['parties'], ', '.join(
                    '%s %d' % kv for kv in entry['segments'].items())))
    entry = summary.get('promised', {}).get('ours')
    generated = summary.get('generate', {}).get('ours')
    if entry and 'error' not in entry:
        print("held: %d invoices under a promise to pay (half broken "
            "before D), %d partly disputed, %d in a payment plan (half "
            "broken by the run); %d reminders of which %d after a broken "
            "promise and %d after a broken plan; %s queries (without them: "
            "%s)" % (entry['promised'], entry.get('disputed', 0),
                entry.get('planned', 0), entry['reminders'],
                entry.get('broken_promises', entry.get('broken', 0)),
                entry.get('broken_plans', 0), entry['queries'],
                (generated or {}).get('queries', '-')))
    entry = summary.get('waiting', {}).get('ours')
    if entry and 'error' not in entry:
        print("held, none settled: %d invoices waiting for a promise to "
            "pay, %d partly disputed, %d in a payment plan on schedule; %d "
            "reminders; %s queries (without them: %s)" % (
                entry['promised'], entry.get('disputed', 0),
                entry.get('planned', 0), entry['reminders'],
                entry['queries'], (generated or {}).get('queries', '-')))


def print_levels(summary):
    "The reminders by level of (a) and (d)"
    for step in ['generate', 'escalate']:
        if step not in summary:
            continue
        for module in ['ours', 'core']:
            entry = summary[step].get(module)
            if entry and entry.get('levels'):
                print("%s %-4s levels: %s" % (step, module, ', '.join(
                            '%s %d' % kv for kv in entry['levels'].items())))


def write_json(summary, args, meta, store, load_at_start):
    "Write the results to args.json (default bench/results/); return path"
    result = {
        'machine': dict(machine_facts(store),
            load_average_at_start=load_at_start),
        'params': {
            'invoices': args.invoices,
            'customers': meta['data']['customers'],
            'backend': args.backend,
            'date': args.date.isoformat(),
            'escalation_date': (
                args.date + dt.timedelta(days=30)).isoformat(),
            'letters': args.letters,
            'repeat': args.repeat,
            'skip_core': args.skip_core,
            'python_optimize': args.optimize,
            'sqlite_exclude_workaround': args.sqlite_exclude_workaround,
            },
        'data': meta['data'],
        'build': {
            'seconds': meta['build_seconds'],
            'cache': meta['cache'],
            'key': store.key,
            'restore_seconds': meta.get('restore_seconds'),
            },
        'steps': summary,
        }
    path = args.json or os.path.join(RESULTS_DIR,
        'bench-%s-%d.json' % (args.backend, args.invoices))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as fp:
        json.dump(result, fp, indent=2, default=str)
    return path
