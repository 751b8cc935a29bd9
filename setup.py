#!/usr/bin/env python3
# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Packaging of the Tryton module account_invoice_dunning."
import io
import os
import re
from configparser import ConfigParser

from setuptools import setup

MODULE = 'account_invoice_dunning'
PREFIX = 'trytond'
HERE = os.path.dirname(os.path.abspath(__file__))


def read(fname):
    with io.open(os.path.join(HERE, fname), 'r', encoding='utf-8') as fp:
        return fp.read()


def get_require_version(name):
    return '%s >= 8.0, < 8.1' % name


config = ConfigParser()
config.read_file(open(os.path.join(HERE, 'tryton.cfg')))
info = dict(config.items('tryton'))
for key in ('depends', 'extras_depend', 'xml'):
    if key in info:
        info[key] = info[key].strip().splitlines()
version = info.get('version', '0.0.1')

requires = [
    'python-sql >= 1.4', 'relatorio >= 0.11', 'pypdf >= 4', 'holidays >= 0.40',
    'phonenumbers']
for dep in info.get('depends', []):
    if not re.match(r'(ir|res)(\W|$)', dep):
        requires.append(get_require_version('%s_%s' % (PREFIX, dep)))
requires.append(get_require_version('trytond'))

tests_require = [
    get_require_version('proteus'),
    get_require_version('trytond_bank'),
    'pytest',
    ]

setup(
    name='%s_%s' % (PREFIX, MODULE),
    version=version,
    description="Chase unpaid customer invoices with a ladder of reminders",
    long_description=read('README.rst'),
    long_description_content_type='text/x-rst',
    license='GPL-3',
    python_requires='>=3.9',
    packages=[
        'trytond.modules.%s' % MODULE,
        'trytond.modules.%s.tests' % MODULE,
        ],
    package_dir={
        'trytond.modules.%s' % MODULE: '.',
        'trytond.modules.%s.tests' % MODULE: 'tests',
        },
    package_data={
        'trytond.modules.%s' % MODULE: (info.get('xml', [])
            + ['tryton.cfg', 'view/*.xml', 'locale/*.po', 'report/*.fodt',
                'COPYRIGHT', 'CHANGELOG', 'README.rst']),
        'trytond.modules.%s.tests' % MODULE: ['*.rst', '*.json',
            'data/*.csv',
            # The modules only the tests activate (see tests/__init__.py)
            'modules/*/*.py', 'modules/*/tryton.cfg',
            'modules/*.dist-info/*'],
        },
    install_requires=requires,
    extras_require={
        'test': tests_require,
        'bank': [get_require_version('trytond_bank')],
        },
    zip_safe=False,
    entry_points="""
    [trytond.modules]
    %s = trytond.modules.%s
    """ % (MODULE, MODULE),
    )
