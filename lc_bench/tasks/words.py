"""Seeded generators for needle keys and values (RULER uses adjective-noun keys, 7-digit numbers
and v4 UUIDs). Word lists are the project's own, so no download is needed."""

from __future__ import annotations

import random
import uuid

ADJECTIVES = (
    "amber ancient brave bright calm careful clever cold crooked curious damp distant dusty eager "
    "early empty fading fierce gentle golden hidden hollow humble icy jagged kind late lively "
    "lonely loud lucky merry misty modest narrow noble odd pale patient plain polite proud quiet "
    "rapid rough rustic shy silent silver simple sleepy slow smooth solemn sour spare steady stern "
    "sticky stray sudden sunny swift tall tame tender tidy tiny tough vivid warm wary wild wise "
    "wooden young zealous"
).split()
NOUNS = (
    "anchor apron arrow badger basket beacon beetle blanket bottle bridge bucket cabin candle "
    "canyon castle cellar chimney clock compass cottage crater cricket dolphin drum falcon feather "
    "fiddle forest fountain garden glacier harbor helmet hermit island jacket kettle ladder lantern "
    "lemon lighthouse marble meadow mirror monkey needle orchard otter paddle parrot pebble pepper "
    "pillow pocket puzzle quarry rabbit ribbon saddle scarf shovel spider sparrow statue teapot "
    "thimble tower tractor trumpet tunnel turtle umbrella valley violin wagon walrus whistle window"
).split()


def random_key(rng: random.Random) -> str:
    """An adjective-noun key such as "curious-lantern"."""
    return f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"


def random_number(rng: random.Random) -> str:
    """A 7-digit number, as in RULER."""
    return str(rng.randint(1_000_000, 9_999_999))


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_word(rng: random.Random) -> str:
    return rng.choice(NOUNS)


VALUE_GENERATORS = {"numbers": random_number, "uuids": random_uuid, "words": random_word}
SINGULAR = {"numbers": "number", "uuids": "uuid", "words": "word"}
