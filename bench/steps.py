# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The timed steps, for our module (ours_step) and for Tryton's
account_dunning (core_step): (a) generate, (b) process, (c) letters,
(d) escalate, and ours only (e) penalties, (f) classify, (g) workers,
(h) emails, (i) promised (held.py) and (j) analysis (board.py). See
bench/README.rst for what each measures."""
import hashlib
import os
import time

from base import MODULE, Step
from board import board_step
from held import promised_step


def level_counts(dunnings):
    counts = {}
    for dunning in dunnings:
        name = dunning.level.rec_name if dunning.level else '?'
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def core_level_name(level):
    return '%s days' % level.overdue.days


def work_digest(pairs):
    """The work of a step: a digest of its (invoice id, rank of the level in
    its procedure) pairs. Both modules run on copies of the same template:
    equal digests mean they remind the same invoices at the same levels
    (report.summarize prints a ratio only then)."""
    text = repr(sorted(pairs)).encode()
    return hashlib.sha256(text).hexdigest()[:12]


def level_rank(level):
    "1 for the first level of its procedure (ours and core alike)"
    return level.procedure.levels.index(level) + 1


def pick_parties_drafts(dunnings, count):
    """The dunnings of the count customers of the smallest ids among those
    with drafts: all the reminders of these customers, as a run sends them
    (one letter per customer). By party id, not by the order of the
    drafts, so that both modules pick the same customers."""
    parties = set(sorted({d.party.id for d in dunnings})[:count])
    return [d for d in dunnings if d.party.id in parties]


def search_drafts(Dunning):
    """All the drafts, browsed by slices of 1,000 for both modules: one
    browse of N records costs N squared in Tryton (ModelStorage.__init__
    checks the list of ids for each instance, without python -O), 3
    minutes at N=58,000; (b) browses them before the clock (setup), a
    second at N=10,000 that is neither module's work"""
    from trytond.transaction import Transaction
    cursor = Transaction().connection.cursor()
    cursor.execute(*Dunning.search([('state', '=', 'draft')],
            order=[('id', 'ASC')], query=True))
    return browse_slices(Dunning, [i for i, in cursor])


def browse_slices(Model, ids):
    "Browse ids by slices of 1,000 (see search_drafts)"
    from trytond.tools import grouped_slice
    records = []
    for sub_ids in grouped_slice(ids, 1000):
        records.extend(Model.browse(list(sub_ids)))
    return records


def select_drafts(Dunning, customers):
    "Ids of all the drafts of the first customers"
    def prepare():
        drafts = Dunning.search([('state', '=', 'draft')],
            order=[('id', 'ASC')])
        return {'ids': [d.id for d in pick_parties_drafts(
                    drafts, customers)]}
    return prepare


def ours_step(pool, step, date, letters, company):
    "Return the Step of our module"
    if step in {'generate', 'escalate'}:
        return ours_generate(pool, date, company)
    if step == 'process':
        return ours_process(pool)
    if step == 'letters':
        return ours_letters(pool, letters)
    if step == 'penalties':
        return penalties_step(pool, date, company)
    if step.startswith('workers'):
        return workers_step(pool, int(step[len('workers'):]), letters)
    if step == 'classify':
        return classify_step(pool, date, company)
    if step == 'emails':
        return ours_emails(pool, letters)
    if step == 'promised':
        return promised_step(pool, date, company)
    if step == 'waiting':
        return promised_step(pool, date, company, settled=False)
    if step == 'analysis':
        return board_step(pool, date, company)
    raise ValueError(step)


def count_reminders(Dunning, result):
    "What the reminders of the ids of result are"
    dunnings = browse_slices(Dunning, result['ids'])
    return {'reminders': len(dunnings),
        'invoices': len({d.invoice.id for d in dunnings}),
        'levels': level_counts(dunnings),
        'work': work_digest(
            (d.invoice.id, level_rank(d.level)) for d in dunnings)}


def count_core_dunnings(dunnings):
    "What the dunnings of core are, as count_reminders"
    return {'reminders': len(dunnings),
        'invoices': len({d.line.move.origin for d in dunnings}),
        'levels': dict(sorted(_core_levels(dunnings).items())),
        'work': work_digest(
            (d.line.move.origin.id, level_rank(d.level)) for d in dunnings)}


def ours_generate(pool, date, company):
    "(a) and (d): the generation of the reminders on date"
    Dunning = pool.get('account.invoice.dunning')

    def run(_):
        dunnings = Dunning.generate_dunnings(
            date=date, companies=[company])
        return {'ids': [d.id for d in dunnings]}
    return Step(run, post=lambda result: count_reminders(Dunning, result))


def ours_process(pool):
    "(b): the processing of all the drafts, without their letters"
    Dunning = pool.get('account.invoice.dunning')
    # Without the letters, measured by 'letters': skip their archiving
    # (rendering + save) or, in older versions, stub their rendering
    try:
        Dispatch = pool.get('account.invoice.dunning.dispatch')
    except KeyError:
        # Before the dispatches (one letter per reminder)
        Dispatch = None
    if Dispatch is not None:
        Dispatch._archive_letters = classmethod(lambda cls, records: None)
        skipped = 'Dispatch._archive_letters stubbed'
    elif hasattr(Dunning, '_archive_letters'):
        Dunning._archive_letters = classmethod(lambda cls, dunnings: None)
        skipped = 'Dunning._archive_letters stubbed'
    else:
        Dunning.render_letter = lambda self: (None, None)
        skipped = 'Dunning.render_letter stubbed'

    def run(dunnings):
        Dunning.process(dunnings)
        return {'ids': [d.id for d in dunnings],
            'letters_skipped': skipped}

    def post(result):
        return dict(count_reminders(Dunning, result),
            letters_skipped=result['letters_skipped'])
    return Step(run, post=post, setup=lambda _: search_drafts(Dunning))


def ours_letters(pool, letters):
    """(c): the processing of the drafts of M customers, which renders and
    archives their letters; rolled back"""
    Dunning = pool.get('account.invoice.dunning')
    rendering = {'seconds': 0., 'count': 0, 'bytes': 0}
    time_rendering(pool, rendering)

    def run(prepared):
        rendering.update(seconds=0., count=0, bytes=0)
        Dunning.process(Dunning.browse(prepared['ids']))
        return dict(prepared, letters=rendering['count'],
            render_seconds=round(rendering['seconds'], 3),
            letter_bytes=rendering['bytes'],
            letter_format=rendering.get('format'))

    def post(result):
        info = count_reminders(Dunning, result)
        info.update((k, result[k]) for k in ['letters', 'render_seconds',
                'letter_bytes', 'letter_format'])
        return info
    # Rolled back: the letters are measured, the drafts stay for (b)
    return Step(run, commit=False,
        prepare=select_drafts(Dunning, letters), post=post)


def mail_sink():
    "The demo's SMTP server (aiosmtpd) on a free port of localhost, started"
    import importlib.util
    import tempfile
    path = os.path.join(os.path.dirname(os.path.dirname(
                os.path.abspath(__file__))), 'scripts', 'demo_mail.py')
    spec = importlib.util.spec_from_file_location('bench_demo_mail', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sink = module.MailSink(tempfile.mkdtemp(prefix='bench-inbox-'))
    if not sink.start():
        raise RuntimeError("aiosmtpd is not installed")
    return sink


def ours_emails(pool, letters):
    """(h): the reminders of M customers sent by email: processed (letters
    rendered and archived, one email a customer queued), then sent as the
    workers send them, to a local SMTP server; rolled back"""
    import trytond.config as config
    from trytond.transaction import Transaction
    Dunning = pool.get('account.invoice.dunning')
    Dispatch = pool.get('account.invoice.dunning.dispatch')
    sink = mail_sink()
    copies = time_invoice_copies(Dispatch)

    def run(prepared):
        copies.update(seconds=0., count=0)
        config.set('email', 'uri', sink.uri)
        dunnings = Dunning.browse(prepared['ids'])
        Dunning.write(dunnings, {'channel': 'email'})
        # The letter and the invoice copies attached as rendered (ODT):
        # LibreOffice's conversion is not what is measured
        with Transaction().set_context(dunning_email_pdf=False):
            Dunning.process(dunnings)
            dispatches = list({d.dispatch.id: d.dispatch
                    for d in Dunning.browse(prepared['ids'])}.values())
            start = time.perf_counter()
            Dispatch.send_emails(dispatches)
            seconds = time.perf_counter() - start
        sent = Dispatch.search([
                ('id', 'in', [d.id for d in dispatches]),
                ('email_state', '=', 'sent'),
                ], count=True)
        return dict(prepared, emails=len(dispatches), sent=sent,
            send_seconds=round(seconds, 3), received=len(sink.messages),
            copies=copies['count'], copies_seconds=round(copies['seconds'], 3))

    def post(result):
        info = count_reminders(Dunning, result)
        info.update((k, result[k]) for k in [
                'emails', 'sent', 'send_seconds', 'received', 'copies',
                'copies_seconds'])
        return info
    return Step(run, commit=False,
        prepare=select_drafts(Dunning, letters), post=post)


def time_invoice_copies(Dispatch):
    """Time the copies of the invoices attached to the emails: Tryton's
    invoice report, rendered the first time an invoice is printed (by the
    task queued when it is posted), then read from its cache; the
    template's invoices were never printed"""
    copies = {'seconds': 0., 'count': 0}
    invoice_copy = Dispatch._invoice_copy.__func__

    def timed_invoice_copy(cls, invoice):
        start = time.perf_counter()
        try:
            return invoice_copy(cls, invoice)
        finally:
            copies['seconds'] += time.perf_counter() - start
            copies['count'] += 1
    Dispatch._invoice_copy = classmethod(timed_invoice_copy)
    return copies


def time_rendering(pool, rendering):
    """Add the time, count and bytes of the letters rendered to the dict
    rendering"""
    Dunning = pool.get('account.invoice.dunning')

    def add(start, results):
        rendering['seconds'] += time.perf_counter() - start
        for oext, content in results:
            rendering['count'] += 1
            rendering['bytes'] += len(content or b'')
            rendering['format'] = oext

    Letter = pool.get('account.invoice.dunning.letter', type='report')
    if hasattr(Letter, 'render_letters'):
        # Rendered by batches
        render_letters = Letter.render_letters.__func__

        def timed_render_letters(cls, dunnings):
            start = time.perf_counter()
            letters = render_letters(cls, dunnings)
            add(start, letters.values())
            keep_letters(letters)
            return letters
        Letter.render_letters = classmethod(timed_render_letters)
    else:
        # Older versions: one by one
        render = Dunning.render_letter

        def timed_render(self):
            start = time.perf_counter()
            result = render(self)
            add(start, [result])
            return result
        Dunning.render_letter = timed_render


def keep_letters(letters):
    """Write the letters {id: (format, content)} rendered to the directory
    BENCH_LETTERS_DIR, if set: to compare the letters of two versions of the
    module byte for byte"""
    directory = os.environ.get('BENCH_LETTERS_DIR')
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for id_, (oext, content) in letters.items():
        with open(os.path.join(directory, 'letter-%s.%s' % (id_, oext)),
                'wb') as file:
            file.write(content)


def classify_step(pool, date, company):
    "(f): the classification of the customers into segments, committed"
    from trytond.transaction import Transaction
    Party = pool.get('party.party')
    PartySegment = pool.get('party.party.dunning_segment')

    def run(_):
        with Transaction().set_context(company=company):
            changes = Party.classify_dunning_segments(date=date)
        return {'changes': changes}

    def post(result):
        segments = {}
        for value in PartySegment.search([('company', '=', company)]):
            if value.dunning_segment:
                name = value.dunning_segment.rec_name
                segments[name] = segments.get(name, 0) + 1
        return {'changes': result['changes'],
            'parties': sum(segments.values()),
            'segments': dict(sorted(segments.items()))}
    return Step(run, post=post)


def penalties_step(pool, date, company):
    """The penalties (interest by half-year, indemnity) of every overdue
    invoice on date, as the formal notice claims them: the computation that
    the reminders, letters and penalty invoices use, without writing"""
    Invoice = pool.get('account.invoice')
    ModelData = pool.get('ir.model.data')
    Level = pool.get('account.invoice.dunning.level')
    compute_penalties = penalties_computation(pool)

    def prepare():
        figures = invoice_figures(pool, date, company)
        return {'overdue': {i: f.overdue for i, f in figures.items()
                if f.overdue > 0}}

    def run(prepared):
        level = Level(ModelData.get_id(MODULE, 'level_formal_notice'))
        overdue = prepared['overdue']
        # Browsed by slices, as the module does
        invoices = browse_slices(Invoice, sorted(overdue))
        penalties = compute_penalties({i.id: (i, level, date, overdue[i.id])
                for i in invoices})
        return {'invoices': len(penalties),
            'interest': str(sum(p.interest for p in penalties.values())),
            'indemnity': str(sum(p.indemnity for p in penalties.values())),
            'with_interest': sum(1 for p in penalties.values()
                if p.interest)}
    return Step(run, commit=False, prepare=prepare,
        post=lambda result: result)


def penalties_computation(pool):
    """The computation of the penalties: {key: (invoice, level, date,
    overdue amount)} -> {key: penalties}"""
    Penalty = pool.get('account.invoice.dunning.penalty')
    if hasattr(Penalty, 'compute_penalties'):
        return Penalty.compute_penalties
    # The versions of the module before issue 12: a function
    from trytond.modules.account_invoice_dunning.penalty import (
        compute_penalties)
    return compute_penalties


def invoice_figures(pool, date, company):
    "{invoice id: figures} of the open invoices of company on date"
    Invoice = pool.get('account.invoice')
    if hasattr(Invoice, 'dunning_figures'):
        return Invoice.dunning_figures(date, [company])
    # The versions of the module before issue 12
    Dunning = pool.get('account.invoice.dunning')
    return Dunning.invoice_figures(date, [company])


def workers_step(pool, workers, letters):
    """Process M drafts with the letters queued, and time until the W
    trytond-worker processes (started by the orchestrator before the clock,
    see start_workers) have archived them all"""
    from sql import Null
    from sql.aggregate import Count

    import trytond.config as config
    from trytond.transaction import Transaction
    Dunning = pool.get('account.invoice.dunning')
    Queue = pool.get('ir.queue')

    def run(prepared):
        # Until the end of wait: Tryton runs the tasks of a transaction at
        # its commit when no worker is configured
        config.set('queue', 'worker', 'True')
        Dunning.process(Dunning.browse(prepared['ids']))
        # The template was analyzed with an empty queue: with these
        # statistics PostgreSQL runs the subquery of Tryton's Queue.pull
        # (LIMIT 1 FOR UPDATE SKIP LOCKED) once per row, and a worker
        # dequeues several tasks but runs one (see bench/README.rst)
        Transaction().connection.cursor().execute('ANALYZE "ir_queue"')
        return prepared

    def wait(result):
        "Committed: the workers take the tasks; wait for the last one"
        queue = Queue.__table__()
        deadline = time.monotonic() + int(
            os.environ.get('BENCH_WORKERS_TIMEOUT', 600))
        try:
            while time.monotonic() < deadline:
                with Transaction().new_transaction() as transaction:
                    cursor = transaction.connection.cursor()
                    cursor.execute(*queue.select(Count(queue.id),
                            where=(queue.finished_at == Null)))
                    pending, = cursor.fetchone()
                if not pending:
                    break
                time.sleep(.05)
            return {'pending': pending}
        finally:
            config.set('queue', 'worker', 'False')

    def post(result):
        dunnings = Dunning.browse(result['ids'])
        # One letter a dispatch (or a reminder, before the dispatches)
        letters = {getattr(d, 'dispatch', None) or d for d in dunnings
            if d.letter_format}
        return {'reminders': len(dunnings),
            'letters': len(letters),
            'workers': workers, 'pending': result.get('pending')}
    return Step(run, prepare=select_drafts(Dunning, letters), post=post,
        after_commit=wait)


def core_step(pool, step, date, letters, company):
    "Return the Step of account_dunning"
    if step in {'generate', 'escalate'}:
        return core_generate(pool, date)
    if step == 'process':
        return core_process(pool)
    if step == 'letters':
        return core_letters(pool, letters)
    raise ValueError(step)


def core_generate(pool, date):
    "(a) and (d) of core"
    Dunning = pool.get('account.dunning')

    def run(_):
        Dunning.generate_dunnings(date=date)
        return {}

    def count_drafts(result):
        return count_core_dunnings(search_drafts(Dunning))
    return Step(run, post=count_drafts)


def core_process(pool):
    "(b) of core"
    Dunning = pool.get('account.dunning')

    def run(dunnings):
        Dunning.process(dunnings)
        return {'ids': [d.id for d in dunnings]}
    return Step(run, setup=lambda _: search_drafts(Dunning),
        post=lambda result: count_core_dunnings(
            browse_slices(Dunning, result['ids'])))


def core_letters(pool, letters):
    """(c) of core: the processing of the drafts of M customers, then their
    letters printed as the process wizard prints them; rolled back"""
    Dunning = pool.get('account.dunning')
    ModelData = pool.get('ir.model.data')
    Letter = pool.get('account.dunning.letter', type='report')

    def run(prepared):
        action_id = ModelData.get_id('account_dunning_letter',
            'report_letter')
        dunnings = Dunning.browse(prepared['ids'])
        Dunning.process(dunnings)
        # As the process wizard prints them: one report of the
        # processed dunnings of the levels printed on letter
        ids = [d.id for d in Dunning.browse(dunnings)
            if d.state == 'waiting' and d.level.print_on_letter]
        start = time.perf_counter()
        oext, content, _, _ = Letter.execute(ids, {
                'model': 'account.dunning',
                'id': ids[0],
                'ids': ids,
                'action_id': action_id,
                })
        return dict(prepared, printed=ids, content=content,
            render_seconds=round(time.perf_counter() - start, 3),
            letter_format=oext)

    def post(result):
        return dict(count_core_dunnings(
                browse_slices(Dunning, result['ids'])),
            **{'dunnings_on_letter': len(result['printed']),
            'letters': count_core_letters(
                Dunning.browse(result['printed']), result['content']),
            'render_seconds': result['render_seconds'],
            'letter_bytes': len(result['content']),
            'letter_format': result['letter_format']})
    return Step(run, commit=False,
        prepare=select_drafts(Dunning, letters), post=post)


def count_core_letters(dunnings, content):
    """The letters in the document of core: one per party, but none for
    the parties whose pending payments (unreconciled, on any invoice) cover
    the amount dunned (Letter.get_context)"""
    import io
    import zipfile
    from xml.sax.saxutils import escape
    with zipfile.ZipFile(io.BytesIO(content)) as odt:
        text = odt.read('content.xml').decode('utf-8')
    return sum(1 for p in {d.party for d in dunnings}
        if escape(p.rec_name) in text)


def _core_levels(dunnings):
    counts = {}
    for dunning in dunnings:
        name = core_level_name(dunning.level)
        counts[name] = counts.get(name, 0) + 1
    return counts


def sqlite_exclude_workaround(pool):
    """Do not check in Python the two EXCLUDE constraints of the reminders
    that SQLite can not run: the module enforces them on SQLite with partial
    unique indexes (Dunning.__register__), which stay.

    Tryton checks such constraints after each create/write with one query
    whose condition nests an OR per record created: past a few hundred
    reminders in one run, it fails (RecursionError in python-sql, or
    'parser stack overflow' in SQLite)."""
    Dunning = pool.get('account.invoice.dunning')
    names = {'invoice_level_exclude', 'invoice_draft_exclude'}
    removed = sorted(c[0] for c in Dunning._sql_constraints if c[0] in names)
    if not removed:
        # Newer versions of the module do it themselves
        return None
    Dunning._sql_constraints = [c for c in Dunning._sql_constraints
        if c[0] not in names]
    return ("SQLite: EXCLUDE constraints %s checked by the partial unique "
        "indexes only" % ', '.join(removed))
