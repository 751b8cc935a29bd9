# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The letters of a batch rendered with one template: the OpenDocument
template converted and parsed once, the parts of the document that print
nothing of the letter (the styles, the metadata) rendered once for the
batch, only the others (the content) for each letter."""
import copy
import logging
import time
import zipfile
from io import BytesIO

from genshi.core import PI
from genshi.template.base import EXEC, EXPR, INCLUDE, SUB
from relatorio.templates.opendocument import fod2od

from .letter_xml import PartsSerializer, merge_static

logger = logging.getLogger(__name__)

# The pause before the second conversion of a document, doubled each time
CONVERT_PAUSE = 0.25
# The template events that make a part of the document depend on the letter
DYNAMIC_EVENTS = {EXPR, SUB, EXEC, INCLUDE}
# relatorio starts each part (content.xml, styles.xml...) of the document
# with this processing instruction: ('relatorio', name of the part)
PART_TARGET = 'relatorio'


def opendocument(content):
    """The template content as an OpenDocument zip: a flat document (fodt)
    converted, as relatorio does for each document rendered else"""
    try:
        with zipfile.ZipFile(BytesIO(content)):
            return content
    except zipfile.BadZipFile:
        return fod2od(BytesIO(content)).getvalue()


def static_parts(stream):
    """The names of the parts of the template stream that have neither
    expression nor directive: they print the same for every letter"""
    parts, dynamic = [], set()
    stack = [iter(stream)]
    while stack:
        for kind, data, _ in stack[-1]:
            if kind is PI and data[0] == PART_TARGET:
                parts.append(data[1])
            elif kind in DYNAMIC_EVENTS:
                dynamic.add(parts[-1] if parts else None)
                if kind is SUB:
                    # The directives of a part stay in it
                    stack.append(iter(data[1]))
                    break
        else:
            stack.pop()
    return [p for p in parts if p not in dynamic]


class BatchTemplate:
    """Render the letters of a batch with a relatorio OpenDocument template

    The first letter is rendered by relatorio; its zip gives the parts that
    print the same for every letter and the layout of the document. The
    next letters render only their other parts, and are packed like the
    first one. A letter that adds files (images) is rendered by relatorio.
    """

    def __init__(self, template, translator=None):
        self.template = template
        # The parts printed the same by every letter, once rendered, and the
        # members of the first document (zip infos and data)
        self.static = {}
        self.members = None
        self.skip = False
        self._static_names = static_parts(template.stream)
        self.translator = translator
        self._translated = self._merged = None
        # Before genshi's own filters: the events of the static parts are
        # not even generated
        template.filters.insert(0, self._skip_static)
        template.filters.insert(0, self._prepared)

    def _prepared(self, stream, ctxt, **vars):
        """The template's stream prepared once a batch: its texts translated
        (genshi's Translator; the letters of a batch are in one language)
        and, for the letters written by PartsSerializer, the runs of events
        that print the same in every letter written once"""
        if self._translated is None:
            self._translated = list(self.translator(stream)
                if self.translator else stream)
        if not self.skip or getattr(self.template, 'has_col_loop', True):
            return iter(self._translated)
        if self._merged is None:
            self._merged = merge_static(self._translated, PART_TARGET)
        return iter(self._merged)

    def _skip_static(self, stream, ctxt, **vars):
        "Drop the events of the static parts when skipping, not their start"
        skip = False
        for event in stream:
            kind, data, _ = event
            if kind is PI and data[0] == PART_TARGET:
                skip = self.skip and data[1] in self.static
            if not skip or kind is PI:
                yield event

    def render(self, **context):
        "The document (bytes) of the letter of context"
        if self.members is not None:
            self.skip = True
            try:
                stream = self.template.generate(**context)
                events = list(stream.events)
            finally:
                self.skip = False
            # The files a letter adds (images) are known to relatorio only
            if not getattr(stream.serializer, '_deferred', True):
                return self._pack(events)
        return self._render_full(self.template.generate(**context))

    def _render_full(self, stream):
        """Render stream by relatorio, and learn from the first document its
        static parts and its layout"""
        content = stream.render()
        if hasattr(content, 'getvalue'):
            content = content.getvalue()
        if self.members is None:
            with zipfile.ZipFile(BytesIO(content)) as document:
                self.members = [(info, document.read(info.filename))
                    for info in document.infolist()]
            self.static = {info.filename: data
                for info, data in self.members
                if info.filename in self._static_names}
        return content

    def _pack(self, events):
        "The document of the events of the parts not static"
        parts = self._serialize(events)
        result = BytesIO()
        with zipfile.ZipFile(result, 'w') as document:
            for info, data in self.members:
                name = info.filename
                if name in self.static:
                    data = self.static[name]
                elif name in parts:
                    data = parts[name]
                document.writestr(copy.copy(info), data)
        return result.getvalue()

    @staticmethod
    def _serialize(events):
        """{part name: its XML (bytes)} of the parts of events, serialized
        as relatorio does (genshi's XMLSerializer), in one pass"""
        parts = PartsSerializer(PART_TARGET).serialize(events)
        return {name: xml.encode('utf-8', 'xmlcharrefreplace')
            for name, xml in parts.items()}


class RetriedConversion:
    """A report whose conversion by LibreOffice is tried again when it
    fails (e.g. two soffice processes started at once), before falling back
    to the document as rendered, as Tryton does

    Tryton's own retries (trytond 8.0 Report.convert) run the command again
    from an iterator of its arguments that the first attempt consumed: the
    second attempt raises IndexError. Each attempt here is one call of
    Tryton's conversion, which does not retry."""
    __slots__ = ()

    @classmethod
    def convert(cls, report, data, timeout=5 * 60, retry=5):
        input_format = report.template_extension
        output_format = report.extension or input_format
        for attempt in range(retry + 1):
            if attempt:
                time.sleep(CONVERT_PAUSE * 2 ** (attempt - 1))
            extension, content = super().convert(
                report, data, timeout=timeout, retry=0)
            # Tryton returns the input as it is when the conversion fails
            if extension != input_format or input_format == output_format:
                return extension, content
            logger.warning("conversion %d of %s to %s failed", attempt + 1,
                report.report_name, output_format)
        return extension, content
