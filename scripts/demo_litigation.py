# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The litigation of the demo, with trytond: a customer whose formal
notices expired handed over to a bailiff (commissaire de justice), its
application for an order to pay (the court file) printed today; a customer
in receivership (judgment, BODACC publication, mandataire), its claim to
declare listed and its declaration of claim printed today."""
import datetime as dt
import unittest.mock

from demo_data import (
    AGENTS, HAND_OVER_DAYS, JUDGMENT_DAYS, LITIGATION_DETAILS,
    PUBLICATION_DAYS, RECORDED_DAYS)


class Litigation:
    """The litigation of the history of demo_replay.Replay: its invoices
    marked with their case in self.cases ({case: [invoice id]})"""

    def litigation_parties(self):
        "The ids of the customers of the litigation"
        from trytond.pool import Pool
        Invoice = Pool().get('account.invoice')
        return sorted({i.party.id for i in Invoice.browse(
                    [i for ids in self.cases.values() for i in ids])})

    def _litigate(self, date, dunning):
        """On their days (if dunning), hand over the file to the bailiff
        and record the receivership; return how many"""
        from trytond.pool import Pool
        Date = Pool().get('ir.date')
        if not dunning:
            return 0
        days = (self.today - date).days
        with unittest.mock.patch.object(Date, 'today', return_value=date):
            if days == HAND_OVER_DAYS and self.cases.get('bailiff'):
                self._hand_over(date)
                return 1
            if days == RECORDED_DAYS and self.cases.get('receivership'):
                self._open_receivership()
                return 1
        return 0

    def _agent(self, code):
        "Create the party of AGENTS[code]"
        from trytond.pool import Pool
        pool = Pool()
        Country = pool.get('country.country')
        Party = pool.get('party.party')
        name, street, postal_code, city, kind = AGENTS[code]
        france, = Country.search([('code', '=', 'FR')])
        party, = Party.create([{
                    'name': name,
                    'dunning_agent_kind': kind,
                    'addresses': [('create', [{
                                    'street': street,
                                    'postal_code': postal_code,
                                    'city': city,
                                    'country': france.id,
                                    }])],
                    }])
        return party

    def _hand_over(self, date):
        """The formal notices expired, the invoices of the case bailiff are
        handed over to the bailiff; it files the application for an order
        to pay with the commercial court"""
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        LitigationFile = pool.get('account.invoice.dunning.litigation')
        invoices = Invoice.browse(self.cases['bailiff'])
        file, = LitigationFile.create([{
                    'company': self.company,
                    'party': invoices[0].party.id,
                    'currency': self.currency,
                    'invoices': [('add', [i.id for i in invoices])],
                    'agent': self._agent('bailiff').id,
                    'handed_on': date,
                    'reference': LITIGATION_DETAILS['reference'],
                    'fees': LITIGATION_DETAILS['fees'],
                    'court': LITIGATION_DETAILS['court_file_court'],
                    }])
        LitigationFile.hand_over([file])

    def _open_receivership(self):
        """The mandataire's letter: the customer of the case receivership
        is in receivership since the judgment, published in the BODACC;
        its invoices born before leave the ladder and their payments
        planned are dropped (forbidden after the judgment)"""
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        invoice = Invoice(self.cases['receivership'][0])
        judgment = self.today - dt.timedelta(days=JUDGMENT_DAYS)
        proceeding, = Proceeding.create([{
                    'company': self.company,
                    'party': invoice.party.id,
                    'kind': 'receivership',
                    'judgment_date': judgment,
                    'court': LITIGATION_DETAILS['proceeding_court'],
                    'case_number': (
                        LITIGATION_DETAILS['case_number'] % judgment.year),
                    'publication_date': self.today - dt.timedelta(
                        days=PUBLICATION_DAYS),
                    'mandataire': self._agent('mandataire').id,
                    'rank': 'ordinary',
                    'note': LITIGATION_DETAILS['proceeding_note'],
                    }])
        ids = Proceeding.invoices_of([proceeding])
        Proceeding.open_([proceeding])
        for events in self.pending.values():
            events[:] = [e for e in events if e[0] not in ids]

    def litigation_documents(self):
        """Print today the court file of the file handed over and the
        declaration of claim of the receivership: [(date, party, title,
        summary, format, content)]"""
        from trytond.pool import Pool
        pool = Pool()
        Date = pool.get('ir.date')
        LitigationFile = pool.get('account.invoice.dunning.litigation')
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        CourtFile = pool.get(
            'account.invoice.dunning.court_file', type='report')
        Declaration = pool.get(
            'account.invoice.dunning.claim_declaration', type='report')
        documents = []
        with unittest.mock.patch.object(
                Date, 'today', return_value=self.today):
            for file in LitigationFile.search([
                        ('state', '=', 'handed_over')], limit=1):
                summary = "%s handed over on %s to %s; claimed: %s" % (
                    ', '.join(sorted(i.number for i in file.invoices)),
                    file.handed_on, file.agent.name,
                    CourtFile.get_court_file(file, self.today).total_total)
                documents.append(self._print(CourtFile, file,
                        "Requête en injonction de payer", summary))
            for proceeding in Proceeding.search([
                        ('state', '=', 'opened')], limit=1):
                summary = ("in receivership: judgment %s, BODACC %s, "
                    "mandataire %s; declared: %s, by %s" % (
                        proceeding.judgment_date,
                        proceeding.publication_date,
                        proceeding.mandataire.name,
                        Declaration.get_declaration(proceeding, self.today,
                            {}).total_total,
                        proceeding.declaration_deadline))
                documents.append(self._print(Declaration, proceeding,
                        "Déclaration de créance", summary))
        return documents

    def _print(self, Report, record, title, summary):
        "The document of record printed with Report"
        fmt, content, _, _ = Report.execute([record.id], {
                'model': record.__name__,
                'id': record.id,
                'ids': [record.id],
                })
        return (self.today, record.party.name, title, summary, fmt,
            bytes(content))
