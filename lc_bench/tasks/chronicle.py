"""The package's own long text for ordering tasks: a traveller's chronicle of any length.

TSort needs consecutive text with no repeats (a repeated passage makes two orders equally right)
and longer than 128k tokens; the shipped essays hold about 8k. This chronicle is generated from a
seed: each paragraph is one stop on a journey through uniquely named places, and it names the
place the traveller came from and the one they leave for. Order is therefore recoverable from the
text itself (where one part ends, the next begins), as it is in a novel, but not from headers,
numbers or dates. Sentences are drawn from varied templates so that parts are not near-duplicates.
"""

from __future__ import annotations

import random
from functools import lru_cache

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gl", "h", "k", "l", "m", "n", "p", "r", "s", "st", "t", "th",
           "v", "w", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "ei", "ou")
_CODAS = ("", "n", "r", "l", "s", "th", "m", "nd", "rk", "st")
_SUFFIXES = ("ford", "wick", "holm", "by", "mere", "dale", "stead", "ton", "brook", "haven", "moor", "gate")

_KINDS = ("village", "market town", "harbour", "hill fort", "mill town", "crossing", "river port", "abbey town")
_FEATURES = (
    "a bridge of grey stone", "a square lined with lime trees", "a leaning bell tower", "a ferry worked by rope",
    "terraced orchards", "a covered market", "a ruined watchtower", "salt pans by the shore", "a long timber quay",
    "a chapel cut into the rock", "a fountain that never froze", "rows of weavers' cottages",
)
_PEOPLE = (
    "a cooper", "the ferry keeper", "two sisters who kept bees", "an old surveyor", "a schoolmistress",
    "a tinker with a lame horse", "the miller's son", "a retired sailor", "a clerk from the customs house",
    "a shepherd", "a glassblower", "the innkeeper's widow",
)
_EVENTS = (
    "a fair was being set up, and the traveller helped to raise a tent in exchange for supper",
    "rain kept everyone indoors, so the traveller mended a satchel and listened to the talk",
    "a dispute over a boundary stone was being argued in the square until the light failed",
    "the harvest had come in early and every barn door stood open",
    "a wedding filled the lanes with music well past midnight",
    "the river had risen in the night and the lower streets smelled of mud",
    "a travelling printer was selling almanacs from the back of a cart",
    "the bells were being recast, and the whole town had gathered to watch the metal poured",
    "a sickness among the goats had the farmers anxious and short of temper",
    "the first frost had come, and smoke rose straight from every chimney",
)
_LESSONS = (
    "that a road is mostly made of the people who keep it", "how to read the weather from the colour of the hills",
    "a song about a drowned bell", "the names of three kinds of moss", "a way to bank a fire so it lasts till dawn",
    "that patience is cheaper than haste on a mountain path", "a recipe for bread baked in ashes",
    "the knots that fishermen use for wet rope",
)
_ROADS = (
    "by the old drove road", "along the towpath", "over the high pass", "through beech woods", "across the marsh "
    "on a causeway", "by a cart track between hedges", "down the river on a flat-bottomed barge", "over the downs",
)
_ARRIVALS = (
    "The road from {prev} brought the traveller to {here}, a {kind} known for {feature}.",
    "Leaving {prev} behind, the traveller reached {here} in the late afternoon; it was a {kind} with {feature}.",
    "After {prev}, the next stop was {here}, a {kind} whose pride was {feature}.",
    "It took two days to get from {prev} to {here}, a small {kind} built around {feature}.",
)
_MIDDLES = (
    "There the traveller met {person}, who explained {lesson}.",
    "In {here}, {person} offered a bed and, over supper, taught the traveller {lesson}.",
    "The traveller spent the evening with {person} and came away knowing {lesson}.",
)
_EVENT_LINES = (
    "On the day of arrival {event}.",
    "During the stay in {here}, {event}.",
    "That week in {here} {event}.",
)
_DEPARTURES = (
    "When the weather cleared, the traveller left {here} {road}, heading for {next}.",
    "From {here} the way led on {road} toward {next}.",
    "At dawn the traveller set out from {here} for {next}, going {road}.",
    "Nobody in {here} had been to {next}, but the traveller went there anyway, {road}.",
)


def _place_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        stem = rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
        if rng.random() < 0.5:
            stem += rng.choice(_VOWELS) + rng.choice(_CODAS)
        name = (stem + rng.choice(_SUFFIXES)).capitalize()
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


@lru_cache(maxsize=8)
def chronicle(paragraphs: int, seed: int = 0) -> str:
    """`paragraphs` stops of the journey (about 75 words, ~100 tokens each), blank-line separated.

    Prefix-stable: a longer chronicle starts with the shorter one (names are drawn in sequence,
    each paragraph from its own seed), so every length cuts its windows from the same text."""
    places = _place_names(random.Random(f"chronicle-places|{seed}"), paragraphs + 2)
    out = []
    for index in range(paragraphs):
        rng = random.Random(f"chronicle|{seed}|{index}")
        prev, here, following = places[index], places[index + 1], places[index + 2]
        fields = {
            "prev": prev, "here": here, "next": following, "kind": rng.choice(_KINDS),
            "feature": rng.choice(_FEATURES), "person": rng.choice(_PEOPLE), "lesson": rng.choice(_LESSONS),
            "event": rng.choice(_EVENTS), "road": rng.choice(_ROADS),
        }
        sentences = [rng.choice(_ARRIVALS), rng.choice(_MIDDLES), rng.choice(_EVENT_LINES), rng.choice(_DEPARTURES)]
        out.append(" ".join(sentence.format(**fields) for sentence in sentences))
    return "\n\n".join(out)
