# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The letters of a batch, rendered with one template (parsed, translated
and its static runs written once, by letter_xml), are the letters Tryton's
report renders one by one: the same document, byte for byte."""
import io
import os
import stat
import tempfile
import unittest
import zipfile
from types import SimpleNamespace
from unittest.mock import patch

from genshi.core import END, PI, START, TEXT, Attrs, QName
from genshi.input import XML
from genshi.output import XMLSerializer

import trytond.config as config
from trytond.modules.account_invoice_dunning import letter_render
from trytond.modules.account_invoice_dunning.letter_xml import (
    RAW, PartsSerializer, merge_static)
from trytond.modules.account_invoice_dunning.tests.test_dispatch import FIRST
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices, load_translations)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction


def members(document):
    """{name: data} of the files of an OpenDocument, but its metadata (the
    time it was rendered)"""
    with zipfile.ZipFile(io.BytesIO(document)) as content:
        return {n: content.read(n) for n in content.namelist()
            if n != 'meta.xml'}


def genshi_parts(events):
    "{part: XML} of events as relatorio writes them: genshi's serializer"
    parts, current = {}, []

    def split():
        for kind, data, pos in events:
            if kind is PI and data[0] == 'relatorio':
                current[:] = [data[1]]
                parts[data[1]] = []
                continue
            yield kind, data, pos
    for chunk in XMLSerializer()(split()):
        parts[current[0]].append(chunk)
    return {name: ''.join(chunks) for name, chunks in parts.items()}


class LetterXMLTestCase(unittest.TestCase):
    "PartsSerializer writes what genshi's XMLSerializer writes"

    def test_serializer_as_genshi(self):
        """Namespaces, empty elements, white space trimmed and escaped
        texts, attributes: the same XML as genshi's serializer, each part
        in its own file"""
        source = ('<a:doc xmlns:a="urn:a" xmlns:b="urn:b">'
            '<a:p b:x="1 &amp; &quot;2&quot;">text  \n\n\n more &lt; </a:p>'
            '<a:empty/><a:p>  </a:p>'
            '<b:q xmlns:c="urn:c" c:y="z">in c</b:q></a:doc>')
        events = ([(PI, ('relatorio', 'content.xml'), None)]
            + list(XML(source))
            + [(PI, ('relatorio', 'styles.xml'), None)]
            + list(XML('<s xmlns="urn:s"><t>one</t> two </s>')))
        self.assertEqual(
            PartsSerializer('relatorio').serialize(events),
            genshi_parts(events))

    def test_static_runs_keep_their_edges(self):
        """The runs of static events are written once, but the events the
        serializer merges with their neighbours: the last start (empty
        with the end after it), the first end, the texts at the edges"""
        p, span = QName('p'), QName('span')
        stream = [
            (PI, ('relatorio', 'content.xml'), None),
            (START, (p, Attrs()), None), (TEXT, 'a', None),
            (START, (span, Attrs()), None), (END, span, None),
            (START, (span, Attrs()), None), (END, span, None),
            (START, (span, Attrs()), None),
            ]
        merged = merge_static(stream, 'relatorio')
        self.assertEqual([e[0] for e in merged],
            [PI, RAW, START])
        self.assertEqual(merged[1][1], '<p>a<span/><span/>')


class LetterRenderTestCase(unittest.TestCase):
    "The letters of a batch are those Tryton renders one by one"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_batch_as_tryton_renders_them(self):
        """Every letter template renders each letter of a batch of three
        customers (one French, one professional) as Tryton's report
        renders it alone: its texts translated after rendering, genshi's
        serializer"""
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Dunning = pool.get('account.invoice.dunning')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        Party = pool.get('party.party')
        french = load_translations('fr')
        company, invoices = create_invoices(7, parties=3)
        with set_company(company):
            Party.write([invoices[0].party], {'lang': french.id})
            Party.write([invoices[1].party],
                {'customer_type': 'professional'})
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            dispatches = Dispatch.search([], order=[('id', 'ASC')])
            actions = ActionReport.search(
                [('report_name', '=', Letter.__name__)])
            self.assertGreaterEqual(len(actions), 7)
            self.assertEqual(len(dispatches), 3)
            languages = {}
            for dispatch in dispatches:
                lang = dispatch.party.lang
                languages.setdefault(lang.code if lang else None, []).append(
                    dispatch)
            checked = 0
            for action in actions:
                for language, group in languages.items():
                    with Transaction().set_context(language=language):
                        batch = self.batch(Letter, action, group)
                        for dispatch, document in zip(group, batch):
                            with self.subTest(action=action.name,
                                    dispatch=dispatch.id):
                                self.assertEqual(members(document),
                                    members(self.alone(
                                            Letter, action, dispatch)))
                                checked += 1
        self.assertEqual(checked, 3 * len(actions))

    @staticmethod
    def batch(Letter, action, dispatches):
        "The letters of dispatches rendered by batch, as processing does"
        template, translate = Letter._letter_template(action)
        shared = {}
        Letter.read_batch(dispatches, shared)
        # Twice: the letters after the first are written by letter_xml
        return [Letter._render_letter(
                    action, template, translate, d, shared)[1]
            for d in dispatches + dispatches][len(dispatches):]

    @staticmethod
    def alone(Letter, action, dispatch):
        "The letter of dispatch as Tryton's report renders it"
        data = {
            'model': dispatch.__name__,
            'id': dispatch.id,
            'ids': [dispatch.id],
            'action_id': action.id,
            }
        with Transaction().set_context(Transaction().context):
            context = Letter.get_context([dispatch], {}, data)
            return Letter.render(action, context)


# A conversion command that fails the first times it runs, then writes
# the output: what LibreOffice does when another soffice holds its profile
FLAKY_CONVERTER = """#!/bin/sh
count=$(cat "$1" 2>/dev/null || echo 0)
echo $((count + 1)) > "$1"
[ "$count" -lt "$2" ] && exit 1
printf '%s' '%PDF-1.4 converted' > "$3"
"""


class ConversionTestCase(unittest.TestCase):
    "The letters converted by LibreOffice"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def convert_failing(self, failures, retry=5,
            report_name='account.invoice.dunning.letter'):
        """Convert an ODT letter with a command that fails failures times,
        by the report report_name; return the result and the number of runs
        of the command"""
        Letter = Pool().get(report_name, type='report')
        with tempfile.TemporaryDirectory() as directory:
            script = os.path.join(directory, 'convert.sh')
            counter = os.path.join(directory, 'count')
            with open(script, 'w') as fp:
                fp.write(FLAKY_CONVERTER)
            os.chmod(script, stat.S_IRWXU)
            command = '%s %s %d "%%(output_path)s"' % (
                script, counter, failures)
            report = SimpleNamespace(report_name='letter',
                template_extension='odt', extension='pdf')
            get = config.get

            def get_command(section, option, default=None):
                if (section, option) == ('report', 'convert_command'):
                    return command
                return get(section, option, default=default)
            with patch.object(config, 'get', get_command), \
                    patch.object(letter_render, 'CONVERT_PAUSE', 0):
                result = Letter.convert(report, b'odt letter', retry=retry)
            with open(counter) as fp:
                return result, int(fp.read())

    @with_transaction()
    def test_conversion_retried(self):
        """A conversion that fails twice is tried again and gives the PDF
        (Tryton's own retry raises IndexError at the second attempt)"""
        for report_name in ['account.invoice.dunning.letter',
                'account.invoice.dunning.claim_declaration',
                'account.invoice.dunning.court_file',
                'account.invoice.dunning.plan.agreement',
                'account.invoice.dunning.history']:
            with self.subTest(report=report_name):
                result, runs = self.convert_failing(2,
                    report_name=report_name)
                self.assertEqual(result, ('pdf', b'%PDF-1.4 converted'))
                self.assertEqual(runs, 3)

    @with_transaction()
    def test_conversion_failed(self):
        "A conversion that keeps failing gives the letter as rendered"
        result, runs = self.convert_failing(10, retry=2)
        self.assertEqual(result, ('odt', b'odt letter'))
        self.assertEqual(runs, 3)
