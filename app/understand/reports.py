"""Reports: several measures of one subject side by side, by the same breakdown and grain.

A list after the subject names the columns: "(count, gross, fee, net)", "with evidence submitted
and won counts", "(new, expansion, ..., with customer counts)". Its words are read against the
subject's report in data/semantic/reports.yaml (named by its words, "MRR movements", or by one
of its metrics, "number of disputes"): each item is a measure (its amount, or its count when a
count word goes with it), a request for every measure's count beside its amount, or, after a
breakdown, an extra column that has one value per value of the first breakdown ("by jurisdiction
with country, state and level"), so the grain stays the same.

The reader runs after the metric and breakdown readers. When it reads a list, the metrics those
readers found inside the report's words or the list are replaced by the report's; every word it
uses is blanked. An item it cannot read in full is left alone, for the last reader to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from app.semantic.model import Report, SemanticModel
from app.understand.phrases import PhraseTable
from app.understand.reading import EngineContext, Reading, amend, blank
from app.understand.reports_run import list_before
from app.understand.words import FUNCTION_WORDS

_INTRO = re.compile(r"\b(?:with|including|incl|plus|showing|along\s+with)\b|[:—–]|\s-\s", re.I)
_END = re.compile(r"[.;?!()]")
_PARENS = re.compile(r"\(([^()]*)\)")
_SPLIT = re.compile(r",|;|&|\b(?:and|plus|with|including|as\s+well\s+as)\b", re.I)
_TOKEN = re.compile(r"[A-Za-z][\w'’]*")
_COUNT_LEAD = re.compile(r"\b(?:how\s+many|number\s+of|count\s+of)\s+$", re.I)
_COUNT_WORDS = ("count", "counts", "number", "numbers", "number of", "how many")

Span = tuple[int, int]


@dataclass(frozen=True)
class _Vocab:
    """One report's phrase tables."""

    report: Report
    words: PhraseTable
    measures: PhraseTable
    measure_of: dict[str, int]
    counts: PhraseTable


@dataclass(frozen=True)
class _Item:
    """One read item of a list: measures (as counts?), every count beside, or extra columns."""

    span: Span
    measures: tuple[int, ...] = ()
    counted: bool = False
    beside: bool = False
    dims: tuple[str, ...] = ()
    lead: bool = False  # the count word comes first: "the number of sales and payouts"


def read_report(r: Reading, ctx: EngineContext) -> Reading:
    """Read a measure list or extra columns after the subject; blank what it uses."""
    if r.listing or r.statement or _lists_values(r, ctx):
        return r  # a statement's words are its own: "AR aging: number of …"
    plain = r.text
    for start, end in r.time.spans:
        plain = blank(plain, start, end)
    vocab, named = _subject(plain, r, ctx)
    segments = _segments(plain)
    if named is None and not segments:
        return r  # no report named and no list to read
    if segments:
        vocab, named, segments = _by_lists(plain, r, ctx, (vocab, named), segments)
    items: list[_Item] = []
    used: list[Span] = []
    listed = blank(plain, *named) if named is not None else plain  # "payouts from our balance"
    for seg, intro in segments:
        read = _items(listed, r, ctx, vocab, seg)
        items += read
        used += [intro] if read and intro else []
        used += [m.span() for m in _SPLIT.finditer(plain, *seg)] if read else []  # "plus"
    measured = [it for it in items if it.measures or it.beside]
    complete = vocab is not None and vocab.report.complete and named is not None
    if named is not None and _COUNT_LEAD.search(plain[: named[0]]):
        complete = False  # "how many balance transactions": the count, not the whole report
    if not items and not complete:
        return r
    extra = [d for it in items for d in it.dims]
    dims = _in_text_order(plain, ctx, [*r.dimensions, *extra]) if extra else r.dimensions
    used += [it.span for it in items]
    metrics, clarify, notes = r.metrics, r.clarify, r.assumptions
    if vocab is not None and (measured or complete):
        used += [named, *_required_spans(vocab, plain)] if named is not None else []
        kept = _kept_metrics(plain, r, ctx, used)
        metrics = tuple(dict.fromkeys([*kept, *_report_metrics(vocab.report, measured, kept)]))
        ambiguous = [h for h in ctx.lexicon.metrics(plain) if h.kind == "ambiguous"]
        if _inside_all([(h.start, h.end) for h in ambiguous], used):
            clarify = None
            defaults = {f"default_{h.phrase.replace(' ', '_')}" for h in ambiguous}
            notes = tuple(a for a in r.assumptions if a.key not in defaults)
    masked = r.masked
    for start, end in used:
        masked = blank(masked, start, end)
    return amend(
        r, metrics=metrics, dimensions=dims, masked=masked, clarify=clarify, assumptions=notes
    )


def names_report(text: str, ctx: EngineContext) -> bool:
    """Whether the text names a report by its words ("balance activity", "MRR movements")."""
    return any(any(True for _ in v.words.spans(text)) for v in _vocabularies(ctx.model))


def _subject(plain: str, r: Reading, ctx: EngineContext) -> tuple[_Vocab | None, Span | None]:
    """The report named by its words (and where), else the report of the first metric."""
    vocabs = _vocabularies(ctx.model)
    found = [(span, v) for v in vocabs if _required(v, plain) for span in v.words.spans(plain)]
    if found:
        span, v = min(found, key=lambda x: (x[0], not x[1].report.requires))
        return v, span
    for v in vocabs:
        names = {n for ms in v.report.measures for n in (ms.amount, ms.count) if n}
        if r.metrics and r.metrics[0] in names:
            return v, None
    return None, None


def _by_lists(
    plain: str,
    r: Reading,
    ctx: EngineContext,
    subject: tuple[_Vocab | None, Span | None],
    segments: list[tuple[Span, Span | None]],
) -> tuple[_Vocab | None, Span | None, list[tuple[Span, Span | None]]]:
    """The report whose measures the lists name most, unless another report is named outside.

    "Disputes" as one item of a list does not make it a disputes report. Its list may then start
    before the first "with": "EUR captured payments, refunds, disputes and bank payouts, with
    counts of payments and refunds" lists six measures, then four counts.
    """
    vocab, named = subject

    def read(v: _Vocab | None) -> int:
        return sum(1 for seg, _ in segments for it in _items(plain, r, ctx, v, seg) if it.measures)

    counts = {id(v): read(v) for v in _vocabularies(ctx.model)}  # each report's lists read once
    best = max(_vocabularies(ctx.model), key=lambda v: counts[id(v)], default=None)
    if best is None or best is vocab:
        return vocab, named, segments
    mine = counts.get(id(vocab)) if vocab is not None else None
    mine = read(vocab) if mine is None else mine
    if counts[id(best)] < 2 or counts[id(best)] <= mine:
        return vocab, named, segments
    run = list_before(plain, (segments[0][1] or segments[0][0])[0])
    lists = [seg for seg, _ in segments] + ([run] if run else [])
    if named is not None and not _inside_all([named], lists):
        return vocab, named, segments
    return best, None, ([(run, None)] if run else []) + segments


def _required(v: _Vocab, plain: str) -> bool:
    """Whether the text says one of the words the report requires (if it requires any)."""
    return not v.report.requires or bool(_required_spans(v, plain))


def _required_spans(v: _Vocab, plain: str) -> list[Span]:
    """Where the text says the words the report requires (read: they name the report)."""
    words = "|".join(re.escape(w) for w in v.report.requires)
    return [m.span() for m in re.finditer(rf"\b(?:{words})\b", plain, re.I)] if words else []


def _lists_values(r: Reading, ctx: EngineContext) -> bool:
    """Whether the question lists values of a breakdown already read, not measures.

    "was each change new, expansion, contraction, churn or reactivation?" names the kinds of the
    MRR movement an earlier reader splits by.
    """
    for d in r.dimensions:
        labels = ctx.model.dimensions[d].value_labels if d in ctx.model.dimensions else {}
        said = {w for pair in labels.items() for w in pair}
        found = [w for w in said if re.search(rf"\b{re.escape(w)}\b", r.text, re.I)]
        if len(found) >= 3:  # a list of them; one or two may be measure words ('fee')
            return True
    return False


def _segments(plain: str) -> list[tuple[Span, Span | None]]:
    """Where lists may stand, with the word that opens them: inside parentheses, after "with"..."""
    spans: list[tuple[Span, Span | None]] = [(m.span(1), None) for m in _PARENS.finditer(plain)]
    for m in _INTRO.finditer(plain):
        if any(s <= m.start() < e for (s, e), _ in spans):
            continue
        stop = _END.search(plain, m.end())
        spans.append(((m.end(), stop.start() if stop else len(plain)), m.span()))
    return sorted(spans)


def _items(
    plain: str, r: Reading, ctx: EngineContext, vocab: _Vocab | None, seg: Span
) -> list[_Item]:
    """The items of one list that are read in full; a trailing count word counts them all."""
    out: list[_Item] = []
    pos = seg[0]
    for cut in [*_SPLIT.finditer(plain, seg[0], seg[1]), None]:
        end = cut.start() if cut else seg[1]
        item = _item(plain, r, ctx, vocab, (pos, end))
        if item is not None:
            out.append(item)
        pos = cut.end() if cut else seg[1]
    if vocab is None:
        return out
    counts = vocab.report.measures
    last = out[-1] if out else None
    first = 0 if last and last.counted and last.measures and not last.lead else None
    lead = first if first is not None else next((k for k, it in enumerate(out) if it.lead), None)
    if lead is None:
        return out
    # "evidence submitted and won counts": every item; "the number of sales and payouts": the
    # count word goes on to the end of the list
    return [
        replace(it, counted=True)
        if k >= lead and it.measures and all(counts[i].count for i in it.measures)
        else it
        for k, it in enumerate(out)
    ]


def _item(
    plain: str, r: Reading, ctx: EngineContext, vocab: _Vocab | None, span: Span
) -> _Item | None:
    """One list item, if every content word of it is read (here or by an earlier reader)."""
    text = " " * span[0] + plain[span[0] : span[1]]
    taken: list[Span] = []
    measures: list[int] = []
    counted = beside = lead = False
    if vocab is not None:
        for s, e in _spans(vocab.measures, text, span):
            measures.append(vocab.measure_of[_norm(plain[s:e])])
            taken.append((s, e))
        for s, e in _spans(vocab.counts, _blanked(text, taken), span):
            taken.append((s, e))
            if measures:
                counted = True
                lead = lead or e <= taken[0][0]
            elif vocab.report.count_words:
                beside = True
            else:  # "with counts": the base's count
                measures, counted = [0], True
    if len(measures) > 1 or (
        counted and vocab is not None and not vocab.report.measures[measures[0]].count
    ):
        return None  # "won amount", "gross count": a column the report does not have
    dims: list[str] = []
    for s, e in _spans(ctx.lexicon.dimension_table, _blanked(text, taken), span):
        dim = _extra_column(ctx, r.dimensions, _norm(plain[s:e]))
        if dim is None:
            return None
        dims.append(dim)
        taken.append((s, e))
    if not (measures or beside or dims):
        return None
    rest = _blanked(text, taken)
    for m in _TOKEN.finditer(rest, span[0], span[1]):
        word = m.group(0).lower()
        if len(word) > 1 and word not in FUNCTION_WORDS and r.masked[m.start() : m.end()].strip():
            return None  # a word nobody read: the last reader reports it
    return _Item(span, tuple(measures), counted, beside, tuple(dims), lead)


def _in_text_order(plain: str, ctx: EngineContext, dims: list[str]) -> tuple[str, ...]:
    """The breakdown first, then the other dimensions in the order the question names them."""
    if not dims:
        return ()
    where: dict[str, int] = {}
    for hit, names in ctx.lexicon.dimensions(plain):
        for name in names:
            where.setdefault(name, hit.start)
    rest = sorted(dict.fromkeys(dims[1:]), key=lambda d: where.get(d, len(plain)))
    return tuple(dict.fromkeys([dims[0], *rest]))


def _extra_column(ctx: EngineContext, dims: tuple[str, ...], word: str) -> str | None:
    """The dimension a word names that has one value per value of the first breakdown."""
    if not dims:
        return None
    model, first = ctx.model, ctx.model.dimensions[dims[0]]
    for name in ctx.lexicon.dimension_words.get(word, ()):
        dim = model.dimensions[name]
        if name in first.determines or (
            first.key and dim.table != "*" and model.join_path(first.table, dim.table) is not None
        ):
            return name
    return None


def _report_metrics(report: Report, items: list[_Item], kept: list[str]) -> list[str]:
    """The report's metrics, in list order: the base first unless the subject already is one."""
    measures = report.measures
    beside = any(it.beside for it in items)
    listed: list[tuple[int, bool]] = [(i, it.counted) for it in items for i in it.measures]
    if not listed and report.complete:
        listed = [(i, False) for i in range(len(measures))]
    out: list[str] = []
    if not report.complete and not any(
        n in kept for ms in measures for n in (ms.amount, ms.count) if n
    ):
        counted = beside or any(c for _, c in listed)
        base = measures[0]
        out.append((base.count if counted else base.amount) or base.amount or base.count or "")
    for i, counted in listed:
        ms = measures[i]
        first = (ms.count if counted else ms.amount) or ms.amount or ms.count
        out += [n for n in (first, ms.count if beside and not counted else None) if n]
    return [n for n in out if n]


def _kept_metrics(plain: str, r: Reading, ctx: EngineContext, used: list[Span]) -> list[str]:
    """The metrics read so far that some word outside the list and the report's words names."""
    hits = ctx.lexicon.metrics(plain)
    kept = []
    for name in r.metrics:
        spans = [(h.start, h.end) for h in hits if _names(h.kind, h.name, ctx.model) == name]
        if not spans or not _inside_all(spans, used):
            kept.append(name)
    return kept


def _names(kind: str, name: str, model: SemanticModel) -> str | None:
    """The metric a lexicon hit stands for (an ambiguous word: its default)."""
    return name if kind == "metric" else model.ambiguous[int(name)].default


def _inside_all(spans: list[Span], used: list[Span]) -> bool:
    return all(any(s <= a and b <= e for s, e in used) for a, b in spans)


def _spans(table: PhraseTable, text: str, span: Span) -> list[Span]:
    return [(s, e) for s, e in table.spans(text) if s >= span[0]]


def _blanked(text: str, spans: list[Span]) -> str:
    for start, end in spans:
        text = blank(text, start, end)
    return text


_SPACES = re.compile(r"[\s-]+")


def _norm(s: str) -> str:
    return _SPACES.sub(" ", s.lower()).strip()


_CACHE: dict[str, tuple[_Vocab, ...]] = {}


def _vocabularies(model: SemanticModel) -> tuple[_Vocab, ...]:
    """The phrase tables of every report of the model (built once per model)."""
    if model.sha256 not in _CACHE:
        _CACHE[model.sha256] = tuple(_vocab(rep) for rep in model.reports.values())
    return _CACHE[model.sha256]


def _vocab(report: Report) -> _Vocab:
    measure_of = {_norm(w): i for i, ms in enumerate(report.measures) for w in ms.words}
    counts = [*report.count_words, *_COUNT_WORDS]
    return _Vocab(
        report=report,
        words=PhraseTable([_norm(w) for w in report.words]),
        measures=PhraseTable(list(measure_of)),
        measure_of=measure_of,
        counts=PhraseTable([_norm(w) for w in counts if _norm(w) not in measure_of]),
    )
