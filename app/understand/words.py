"""Word lists the leftovers reader and the typo check read: no content, meaning, time, filters."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no content of their own in a reporting question.
FUNCTION_WORDS = _words(
    """
    a about above across after again against all also am an and any are as at be been before
    being below between both but by can could did do does doing done during each either else
    ever every for from get gets getting give given got had has have having he her here hers him
    his how i if in into is it its itself just least let lets like me might more most much must my
    no nor not now of off on once only or other our ours ourselves out over own please same she
    should show so some such than that the their theirs them themselves then there these they
    this those through to too under until up us very was we were what whats when where which
    while who whom whose why will with within would you your yours yourselves per instead make
    used use using via
    tell see find display list give show me pull bring report get compute calculate look
    many number count total totals sum amount amounts value values figure figures overall
    did does do was were is are be been have has had been
    hi hey thanks thank ok okay kindly quick quickly just exactly roughly approximately
    break broken breakdown split group grouped versus vs compared compare comparison down
    collect collected charge charged bring brought receive received generate
    generated record recorded book booked pay paid bill billed invoice invoiced money still
    away converted convert reported expressed growth grow grew trend trends happen happened
    currently altogether so far ever
    company companys business businesses account accounts books data stripe
    new
    """
)
# Words whose meaning would change the number if they were ignored.
MEANING_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "median",
            "average",
            "avg",
            "mean",
            "typical",
            "percentile",
            "percentiles",
            "p50",
            "p75",
            "p90",
            "p95",
            "p99",
            "quartile",
            "minimum",
            "maximum",
            "min",
            "max",
        ),
        "an aggregation",
    ),
    **dict.fromkeys(("distinct", "unique", "different"), "a distinct count"),
    **dict.fromkeys(
        ("share", "percentage", "percent", "proportion", "fraction", "ratio", "portion", "mix"),
        "a share",
    ),
    **dict.fromkeys(("rate", "rates"), "a rate"),  # "dispute win rate": not the won disputes
    **dict.fromkeys(
        (
            "weekday",
            "weekdays",
            "weekend",
            "weekends",
            "hour",
            "hours",
            "hourly",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "cohort",
            "cohorts",
        ),
        "a grouping",
    ),
    **dict.fromkeys(("cumulative", "running", "rolling", "moving"), "a running total"),
    **dict.fromkeys(
        (
            "bucket",
            "buckets",
            "band",
            "bands",
            "tiers",
            "distribution",
            "histogram",
            "aging",
            "ageing",
        ),
        "a grouping into ranges",
    ),
}
# After these words an unknown word is a filter or a grouping the plan would silently drop.
BEFORE_FILTER = _words(
    "by per each every in from via using with without excluding except only where whose for on "
    "paid made through used use via"
)
TIME_WORDS = _words(
    "day days daily week weeks weekly month months monthly quarter quarters quarterly year years "
    "yearly annual annually today yesterday last previous prior since until through ytd mtd qtd "
    "fiscal calendar january february march april may june july august september october november "
    "december trailing rolling recent latest current"
)
