#!/usr/bin/env python3
# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The demo: a French company chases its late customers.

Creates a SQLite database (OUTPUT/demo.sqlite) with a company, customers and
invoices, replays the daily dunning of the last ten weeks, then creates and
processes today's reminders (one per level) and writes their letters to
OUTPUT/letters (ODT, and PDF when LibreOffice is installed).

Usage: python scripts/demo.py [--output DIR] [--date YYYY-MM-DD]
"""
import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from decimal import Decimal

MODULE = 'account_invoice_dunning'
ADMIN_PASSWORD = 'admin'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--output', default='demo-output',
        help="folder of the database and the letters (default: %(default)s)")
    parser.add_argument('--date', type=dt.date.fromisoformat,
        default=dt.date.today(),
        help="the day of the demo run (default: today)")
    return parser.parse_args()


def create_database(output):
    "Create the SQLite database with trytond-admin; return the config file"
    database = os.path.join(output, 'demo.sqlite')
    if os.path.exists(database):
        os.remove(database)
    # trytond-admin initializes an existing (empty) SQLite file
    open(database, 'wb').close()
    config_file = os.path.join(output, 'trytond.conf')
    with open(config_file, 'w') as fp:
        fp.write('[database]\nuri = sqlite://\npath = %s\n'
            '[web]\nlisten = localhost:8000\n' % os.path.abspath(output))
    password_file = os.path.join(output, '.admin-password')
    with open(password_file, 'w') as fp:
        fp.write(ADMIN_PASSWORD)
    env = dict(os.environ, TRYTONPASSFILE=password_file)
    admin = os.path.join(os.path.dirname(sys.executable), 'trytond-admin')
    print("Creating the database %s (a minute)..." % database, flush=True)
    subprocess.run([admin, '-c', config_file, '-d', 'demo', '--all',
            '--email', 'admin@example.com', '-l', 'fr'], check=True, env=env)
    subprocess.run([admin, '-c', config_file, '-d', 'demo',
            '-u', MODULE, 'bank', '--activate-dependencies', '-l', 'fr'],
        check=True, env=env)
    return config_file


def main():
    args = parse_args()
    output = os.path.abspath(args.output)
    os.makedirs(output, exist_ok=True)
    today = args.date
    config_file = create_database(output)

    from proteus import Model, Wizard
    from proteus import config as pconfig
    config = pconfig.set_trytond('demo', config_file=config_file)
    config.skip_warning = True

    from trytond.modules.account.tests.tools import (
        create_chart, create_fiscalyear, create_tax, get_accounts)
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)
    from trytond.modules.company.tests.tools import create_company

    Lang = Model.get('ir.lang')
    french, = Lang.find([('code', '=', 'fr')])
    english, = Lang.find([('code', '=', 'en')])
    Country = Model.get('country.country')
    france = Country(name="France", code='FR')
    france.save()

    print("Setting up the company and its accounting...", flush=True)
    Party = Model.get('party.party')
    company_party = Party(name="Atelier Dupont SARL", lang=french)
    address, = company_party.addresses
    address.street = "18 rue des Petites-Écuries"
    address.postal_code = "75010"
    address.city = "Paris"
    address.country = france
    company_party.contact_mechanisms.new(type='phone', value='+33142466600')
    company_party.contact_mechanisms.new(
        type='email', value='contact@atelier-dupont.fr')
    company_party.contact_mechanisms.new(
        type='website', value='www.atelier-dupont.fr')
    company_party.identifiers.new(type='eu_vat', code='FR40303265045')
    company_party.save()
    Currency = Model.get('currency.currency')
    eur, = Currency.find([('code', '=', 'EUR')]) or [None]
    if eur is None:
        eur = Currency(name="Euro", code='EUR', symbol='€', rounding=Decimal(
                '0.01'), digits=2)
        eur.save()
    create_company(party=company_party, currency=eur)
    Company = Model.get('company.company')
    company, = Company.find()
    create_chart(company)
    for year in sorted({today.year - 1, today.year}):
        fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(
                company, (dt.date(year, 1, 1), dt.date(year, 12, 31))))
        fiscalyear.click('create_period')
        sequence = fiscalyear.invoice_sequences[0].out_invoice_sequence
        sequence.prefix = 'FA%s-' % year
        sequence.padding = 5
        sequence.save()
    accounts = get_accounts(company)
    tax = create_tax(Decimal('.20'))
    tax.description = tax.name = "TVA 20 %"
    tax.save()

    Bank = Model.get('bank')
    bank_party = Party(name="Banque Populaire Rives de Paris")
    bank_party.save()
    bank = Bank(party=bank_party, bic='CCBPFRPPMTG')
    bank.save()
    BankAccount = Model.get('bank.account')
    bank_account = BankAccount(bank=bank, currency=eur)
    bank_account.owners.append(Party(company_party.id))
    bank_account.numbers.new(type='iban', number='FR7610107001011234567890129')
    bank_account.save()

    PaymentTerm = Model.get('account.invoice.payment_term')
    term = PaymentTerm(name="30 jours")
    term.lines.new(type='remainder').relativedeltas.new(days=30)
    term.save()
    Journal = Model.get('account.journal')
    PaymentMethod = Model.get('account.invoice.payment.method')
    journal_cash, = Journal.find([('type', '=', 'cash')])
    transfer = PaymentMethod(name="Virement", journal=journal_cash,
        credit_account=accounts['cash'], debit_account=accounts['cash'])
    transfer.save()

    ModelData = Model.get('ir.model.data')
    Segment = Model.get('account.invoice.dunning.segment')
    segment = Segment(ModelData.get_id(MODULE, 'segment_standard', {}))
    Configuration = Model.get('account.configuration')
    configuration = Configuration(1)
    configuration.default_dunning_segment = segment
    configuration.dunning_contact_name = "Service comptabilité clients"
    configuration.dunning_contact_email = "compta@atelier-dupont.fr"
    configuration.dunning_contact_phone = "+33 1 42 46 66 01"
    configuration.dunning_signatory = "Claire Martin"
    configuration.dunning_signatory_title = "Responsable du recouvrement"
    configuration.save()

    print("Creating customers and invoices...", flush=True)
    customers = {}
    england = Country(name="United Kingdom", code='GB')
    england.save()
    for name, street, postal_code, city, lang in [
            ("Boulangerie Martin", "4 place Bellecour", "69002", "Lyon",
                french),
            ("Garage des Deux Rives", "27 quai de la Fosse", "44000",
                "Nantes", french),
            ("Librairie Vauban", "9 rue Nationale", "59000", "Lille",
                french),
            ("Hôtel du Vieux Port", "31 quai du Port", "13002",
                "Marseille", french),
            ("Menuiserie Lefèvre", "12 rue du Moulin", "35000", "Rennes",
                french),
            ("Café de la Gare", "1 avenue de la Gare", "67000",
                "Strasbourg", french),
            ("Thames Design Ltd", "14 Shoreditch High Street", "E1 6JE",
                "London", english),
            ]:
        party = Party(name=name, lang=lang)
        address, = party.addresses
        address.street = street
        address.postal_code = postal_code
        address.city = city
        address.country = france if lang == french else england
        party.save()
        customers[name] = party

    # (customer, days from today to the due date, amount excl. VAT, what)
    # The due dates put each invoice on a level of the default procedure
    # today: pre-reminder (due in 5 days), first (7 days late), second (21),
    # third (35), formal notice (50).
    plan = [
        ("Boulangerie Martin", 5, '1200', "Entretien annuel du four"),
        ("Garage des Deux Rives", -7, '860', "Réparation de l'enseigne"),
        ("Thames Design Ltd", -7, '2400', "Shop fitting, London showroom"),
        ("Librairie Vauban", -21, '3150', "Agencement des rayonnages"),
        ("Hôtel du Vieux Port", -35, '5400', "Rénovation du comptoir"),
        ("Menuiserie Lefèvre", -50, '1980', "Fourniture de panneaux chêne"),
        ("Café de la Gare", -20, '640', "Réparation de terrasse"),
        ("Boulangerie Martin", -60, '420', "Pièces détachées"),
        ]
    Invoice = Model.get('account.invoice')
    Tax = Model.get('account.tax')
    invoices = []
    for name, due_in, amount, what in sorted(plan, key=lambda p: p[1]):
        invoice = Invoice(type='out', party=customers[name],
            payment_term=term, invoice_date=today + dt.timedelta(
                days=due_in - 30))
        line = invoice.lines.new()
        line.account = accounts['revenue']
        line.description = what
        line.quantity = 1
        line.unit_price = Decimal(amount)
        line.taxes.append(Tax(tax.id))
        invoice.description = what
        invoice.save()
        invoice.click('post')
        invoices.append((name, due_in, invoice))

    def pay(invoice, amount, date):
        pay = invoice.click('pay')
        pay.form.payment_method = transfer
        pay.form.date = date
        pay.form.amount = Decimal(amount)
        pay.execute('choice')
        if pay.state != 'end' and pay.form_state == 'ask':
            pay.form.type = 'partial'
            pay.execute('pay')

    for name, due_in, invoice in invoices:
        if name == "Boulangerie Martin" and due_in == -60:
            # Paid late but in full: never chased again
            pay(invoice, invoice.total_amount, today - dt.timedelta(days=45))
        elif name == "Librairie Vauban":
            # A partial payment lowers the amount claimed
            pay(invoice, Decimal('1000'), today - dt.timedelta(days=10))
        elif name == "Café de la Gare":
            invoice.dunning_blocked = True
            invoice.dunning_block_reason = (
                "Litige : terrasse à reprendre, intervention prévue")
            invoice.save()

    Dunning = Model.get('account.invoice.dunning')
    print("Replaying the daily dunning of the last ten weeks...", flush=True)
    start = time.time()
    for days in range(70, 0, -1):
        date = today - dt.timedelta(days=days)
        create = Wizard('account.invoice.dunning.create')
        create.form.date = date
        create.execute('create_')
        drafts = Dunning.find([('state', '=', 'draft')])
        if drafts:
            Dunning.click(drafts, 'process')
    print("  done in %.1f s" % (time.time() - start))

    print("Creating and processing today's reminders (%s)..." % today,
        flush=True)
    create = Wizard('account.invoice.dunning.create')
    create.form.date = today
    create.execute('create_')
    dunnings, = create.actions
    Dunning.click(dunnings, 'process')

    letters = os.path.join(output, 'letters')
    shutil.rmtree(letters, ignore_errors=True)
    os.makedirs(letters)
    rows = []
    for position, dunning in enumerate(
            sorted(dunnings, key=lambda d: d.level.sequence), 1):
        dunning.reload()
        filename = '%02d-%s-%s.%s' % (position,
            dunning.level.name.replace(' ', '_'),
            dunning.party.name.replace(' ', '_'), dunning.letter_format)
        with open(os.path.join(letters, filename), 'wb') as fp:
            fp.write(dunning.letter)
        rows.append((dunning.level.name, dunning.party.name,
                dunning.invoice.number, dunning.amount, dunning.deadline,
                dunning.channel, filename))

    soffice = shutil.which('soffice') or shutil.which('libreoffice')
    if soffice:
        print("Converting the letters to PDF with LibreOffice...", flush=True)
        subprocess.run([soffice, '--headless', '--convert-to', 'pdf',
                '--outdir', letters]
            + sorted(os.path.join(letters, f) for f in os.listdir(letters)),
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        print("LibreOffice is not installed: letters are ODT only "
            "(apt-get install libreoffice-writer-nogui for PDF).")

    print()
    print("Today's reminders, processed and archived:")
    print("%-16s %-22s %-14s %10s  %-10s  %-17s" % (
            "Level", "Customer", "Invoice", "Amount", "Deadline", "Channel"))
    for level, party, number, amount, deadline, channel, _ in rows:
        print("%-16s %-22s %-14s %10s  %-10s  %-17s" % (
                level, party[:22], number, amount, deadline, channel))
    print()
    print("Letters written to %s/" % letters)
    for name in sorted(os.listdir(letters)):
        print("  " + name)
    print()
    print("Database: %s (trytond config %s, login admin / %s)" % (
            os.path.join(output, 'demo.sqlite'), config_file,
            ADMIN_PASSWORD))


if __name__ == '__main__':
    main()
