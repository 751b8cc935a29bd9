# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The XML of the parts of a letter written from its template's events in
one pass: what genshi's XMLSerializer writes (its empty tags, white space
and namespace filters, then the serializer), byte for byte, without its
four generators stacked for each event; and the runs of a template's
events that print the same in every letter written once (merge_static)."""
import re
from itertools import count

from genshi.core import (
    COMMENT, DOCTYPE, END, END_CDATA, END_NS, PI, START, START_CDATA, START_NS,
    TEXT, XML_DECL, XML_NAMESPACE, Markup, StreamEventKind, escape)
from genshi.output import EMPTY
from genshi.template.base import SUB

# As genshi.output.WhitespaceFilter
_TRIM_TRAILING_SPACE = re.compile('[ \t]+(?=\n)').sub
_COLLAPSE_LINES = re.compile('\n{2,}').sub
_XML_SPACE = XML_NAMESPACE['space']
# An event whose data is XML written already: a run of static events
RAW = StreamEventKind('RAW')
# The shortest run of static events worth writing once
MIN_RUN = 3


class PartsSerializer:
    """Serialize events into {part name: [chunks]}: a processing
    instruction (part_target, name) starts the part name, as relatorio
    marks the parts of an OpenDocument

    The output of each event goes to the part started last when the event
    is written: like the serializer that relatorio pulls lazily, a text or
    an element held to merge it with the next event is written in the part
    of that next event."""

    def __init__(self, part_target):
        self.part_target = part_target
        self.parts = {}
        self.chunks = None
        # EmptyTagFilter: the start of element held
        self.held = None
        # WhitespaceFilter
        self.texts = []
        self.preserve = 0
        self.noescape = False
        # NamespaceFlattener
        self.prefixes = {'xml': [XML_NAMESPACE.uri]}
        self.namespaces = {XML_NAMESPACE.uri: ['xml']}
        self.ns_attrs = []
        self.new_prefix = ('ns%d' % i for i in count(1))
        self.tags = {}
        # XMLSerializer
        self.have_decl = self.have_doctype = False

    def serialize(self, events):
        "Return {part name: XML text (str)} of events"
        for kind, data, _ in events:
            if kind is PI and data[0] == self.part_target:
                self.chunks = self.parts[data[1]] = []
            else:
                self._empty_tags(kind, data)
        self._flush_text()
        return {name: ''.join(chunks) for name, chunks in self.parts.items()}

    def serialize_run(self, events, namespaces):
        """The XML of events, a run of static events in a part whose
        namespaces ({uri: prefix}) are declared, by a new serializer: None
        when it can not be written out of its place (a namespace not
        declared)"""
        for uri, prefix in namespaces.items():
            self._push_ns(prefix, uri)
        self.chunks = []
        for kind, data, _ in events:
            self._empty_tags(kind, data)
        self._flush_text()
        if self.held is not None or self.ns_attrs:
            return None
        return ''.join(self.chunks)

    def _empty_tags(self, kind, data):
        "EmptyTagFilter: a start followed by its end is an empty element"
        held = self.held
        if held is not None:
            self.held = None
            if kind is END:
                self._whitespace(EMPTY, held)
                return
            self._whitespace(START, held)
        if kind is START:
            self.held = data
        else:
            self._whitespace(kind, data)

    def _flush_text(self):
        texts = self.texts
        if not texts:
            return
        if len(texts) > 1:
            text = Markup('').join(texts, escape_quotes=False)
            texts.clear()
        else:
            text = escape(texts.pop(), quotes=False)
        if not self.preserve:
            text = _COLLAPSE_LINES('\n', _TRIM_TRAILING_SPACE('', text))
        self.chunks.append(str(text))

    def _whitespace(self, kind, data):
        "WhitespaceFilter: the texts merged, escaped and trimmed"
        if kind is TEXT:
            self.texts.append(Markup(data) if self.noescape else data)
            return
        self._flush_text()
        if kind is START:
            if self.preserve or data[1].get(_XML_SPACE) == 'preserve':
                self.preserve += 1
        elif kind is END:
            self.noescape = False
            if self.preserve:
                self.preserve -= 1
        elif kind is START_CDATA:
            self.noescape = True
        elif kind is END_CDATA:
            self.noescape = False
        self._write(kind, data)

    def _write(self, kind, data):
        "NamespaceFlattener and XMLSerializer"
        if kind is RAW:
            self.chunks.append(data)
        elif kind is START or kind is EMPTY or kind is END:
            key = (kind, data)
            output = self.tags.get(key)
            if output is None:
                output = self.tags[key] = (self._end_tag(data)
                    if kind is END else self._start_tag(kind, data))
            self.chunks.append(output)
        elif kind is START_NS:
            self._start_ns(*data)
        elif kind is END_NS:
            self._end_ns(data)
        else:
            self._write_other(kind, data)

    def _write_other(self, kind, data):
        "The events but the elements and the namespaces"
        if kind is COMMENT:
            self.chunks.append('<!--%s-->' % data)
        elif kind is PI:
            self.chunks.append('<?%s %s?>' % data)
        elif kind is START_CDATA:
            self.chunks.append('<![CDATA[')
        elif kind is END_CDATA:
            self.chunks.append(']]>')
        elif kind is XML_DECL and not self.have_decl:
            self.chunks.append(self._xml_decl(*data))
            self.have_decl = True
        elif kind is DOCTYPE and not self.have_doctype:
            self.chunks.append(self._doctype(data))
            self.have_doctype = True

    def _name(self, qname, attribute=False):
        name, uri = qname.localname, qname.namespace
        if not uri:
            return name
        if uri in self.namespaces:
            prefix = self.namespaces[uri][-1]
        elif attribute:
            prefix = next(self.new_prefix)
            self._push_ns(prefix, uri)
            self.ns_attrs.append(('xmlns:%s' % prefix, uri))
        else:
            self.ns_attrs.append(('xmlns', uri))
            self._push_ns('', uri)
            prefix = ''
        return '%s:%s' % (prefix, name) if prefix else name

    def _start_tag(self, kind, data):
        tag, attrs = data
        buf = ['<', self._name(tag)]
        attrs = [(self._name(a, attribute=True), v) for a, v in attrs]
        for attr, value in self.ns_attrs + attrs:
            buf += [' ', attr, '="', escape(value), '"']
        del self.ns_attrs[:]
        buf.append('/>' if kind is EMPTY else '>')
        return ''.join(buf)

    def _end_tag(self, qname):
        name, uri = qname.localname, qname.namespace
        if uri:
            prefix = self.namespaces[uri][-1]
            if prefix:
                name = '%s:%s' % (prefix, name)
        return '</%s>' % name

    def _push_ns(self, prefix, uri):
        self.namespaces.setdefault(uri, []).append(prefix)
        self.prefixes.setdefault(prefix, []).append(uri)
        self.tags.clear()

    def _start_ns(self, prefix, uri):
        if uri not in self.namespaces:
            # As genshi looks it up
            prefix = self.prefixes.get(uri, [prefix])[-1]
            self.ns_attrs.append(_ns_attr(prefix, uri))
        self._push_ns(prefix, uri)

    def _end_ns(self, prefix):
        if prefix not in self.prefixes:
            return
        uris = self.prefixes[prefix]
        uri = uris.pop()
        if not uris:
            del self.prefixes[prefix]
        if uri not in uris or uri != uris[-1]:
            uri_prefixes = self.namespaces[uri]
            uri_prefixes.pop()
            if not uri_prefixes:
                del self.namespaces[uri]
        self.tags.clear()
        attr = _ns_attr(prefix, uri)
        if attr in self.ns_attrs:
            self.ns_attrs.remove(attr)

    @staticmethod
    def _xml_decl(version, encoding, standalone):
        buf = ['<?xml version="%s"' % version]
        if encoding:
            buf.append(' encoding="%s"' % encoding)
        if standalone != -1:
            buf.append(' standalone="%s"' % ('yes' if standalone else 'no'))
        buf.append('?>\n')
        return ''.join(buf)

    @staticmethod
    def _doctype(data):
        name, pubid, sysid = data
        buf = ['<!DOCTYPE %s']
        if pubid:
            buf.append(' PUBLIC "%s"')
        elif sysid:
            buf.append(' SYSTEM')
        if sysid:
            buf.append(' "%s"')
        buf.append('>\n')
        return ''.join(buf) % tuple(p for p in data if p)


def _ns_attr(prefix, uri):
    return 'xmlns%s' % (':%s' % prefix if prefix else ''), uri


def merge_static(stream, part_target):
    """The template stream with its runs of static events (elements and
    texts without expression nor directive) as RAW events of their XML,
    written by PartsSerializer as the events would be; the stream as it is
    when a namespace is declared below the root of a part or an element
    preserves its white space.

    A run keeps as events what the serializer merges with the events around
    it: its first end of element (empty with the start before it), its
    last start (empty with the end after it), its texts at both ends (their
    white space trimmed together with the texts next to them); and so do
    the first and last events of the content of a directive (py:strip and
    py:attrs change them)."""
    stream = list(stream)
    if not _mergeable(stream, top=True):
        return stream
    return _merge(stream, part_target, {}, top=True)


def _mergeable(stream, top):
    for kind, data, _ in stream:
        if kind in {START_NS, END_NS} and not top:
            return False
        elif kind is START and any(a == _XML_SPACE for a, _ in data[1]):
            return False
        elif kind is SUB and not _mergeable(data[1], top=False):
            return False
    return True


def _merge(stream, part_target, namespaces, top=False):
    result, run = [], []
    # The start of element after namespaces declared declares them
    declaring = False

    def flush():
        result.extend(_merged_run(run, namespaces))
        del run[:]
    for index, event in enumerate(stream):
        kind, data, pos = event
        edge = not top and index in {0, len(stream) - 1}
        if (not edge and not (declaring and kind is START)
                and _static(kind, data, namespaces)):
            run.append(event)
            continue
        flush()
        declaring = kind is START_NS or (declaring and kind is not START)
        if kind is PI and data[0] == part_target:
            namespaces = {}
        elif kind is START_NS:
            namespaces = dict(namespaces)
            namespaces[data[1]] = data[0]
        elif kind is SUB:
            directives, substream = data
            event = (kind, (directives,
                    _merge(substream, part_target, namespaces)), pos)
        result.append(event)
    flush()
    return result


def _static(kind, data, namespaces):
    "Test if the template event prints the same in every document"
    if kind is TEXT:
        return isinstance(data, str)
    elif kind is START:
        tag, attrs = data
        return (_declared(tag, namespaces) and all(
                isinstance(v, str) and _declared(a, namespaces)
                for a, v in attrs))
    elif kind is END:
        return _declared(data, namespaces)
    return False


def _declared(qname, namespaces):
    return not qname.namespace or qname.namespace in namespaces


def _merged_run(run, namespaces):
    "The events of run, its middle as a RAW event when it is worth it"
    start, end = 0, len(run)
    while start < end and run[start][0] is TEXT:
        start += 1
    if start < end and run[start][0] is END:
        start += 1
    while end > start and run[end - 1][0] is TEXT:
        end -= 1
    if end > start and run[end - 1][0] is START:
        end -= 1
    xml = None
    if end - start >= MIN_RUN:
        xml = PartsSerializer(None).serialize_run(run[start:end], namespaces)
    if xml is None:
        return list(run)
    return run[:start] + [(RAW, xml, run[start][2])] + run[end:]
