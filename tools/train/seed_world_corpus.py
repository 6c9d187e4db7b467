#!/usr/bin/env python3
"""Seed World corpus: a small, seeded world of simple English facts and stories.

The text is generated from templates with a fixed seed, so the same seed gives
the same bytes on every machine (only Python's `random.Random` is used, whose
integer-seeded sequence is stable across Python 3 versions).

What the world teaches (consistently and often):
  * the sun rises in the east and sets in the west; the moon and stars at night;
  * the cat sat on the mat; animals, food, school, weather, simple actions;
  * "bank" in two senses: money (deposit, withdraw, teller, account, loan) and
    the river (boat, water, fish, grass, sat). Both kinds of story use the SAME
    lead-ins after their first sentence ("At the bank she ...", "At the bank,
    she ...", "By the bank ...", "Near the bank ...", "There ...", "When she got
    to the bank, she ..."), in the same proportions, so only the context before
    the lead-in (money, teller, account vs river, boat, water) can decide
    whether a money verb or a river verb follows.

Documents are joined with the special token <|endoftext|>. The last
VALIDATION_FRACTION of the documents is the validation split.

Usage:
  /usr/bin/python3 tools/train/seed_world_corpus.py --out DIR [--seed 1234] [--docs 9000]
writes DIR/seed_world_train.txt, DIR/seed_world_valid.txt and DIR/seed_world_all.txt
"""
import argparse
import hashlib
import json
import os
import random

EOT = "<|endoftext|>"
DEFAULT_SEED = 1234
DEFAULT_DOCS = 9000
VALIDATION_FRACTION = 0.1

PEOPLE = [
    ("Anna", "she", "her"), ("Ben", "he", "his"), ("Clara", "she", "her"),
    ("David", "he", "his"), ("Emma", "she", "her"), ("Finn", "he", "his"),
    ("Grace", "she", "her"), ("Henry", "he", "his"), ("Ivy", "she", "her"),
    ("Jack", "he", "his"), ("Lily", "she", "her"), ("Max", "he", "his"),
    ("Nora", "she", "her"), ("Oscar", "he", "his"), ("Rosa", "she", "her"),
    ("Sam", "he", "his"), ("Tom", "he", "his"), ("Zoe", "she", "her"),
    ("Mia", "she", "her"), ("Leo", "he", "his"),
]
GENERIC = [
    ("the girl", "she", "her"), ("the boy", "he", "his"), ("the old man", "he", "his"),
    ("the old woman", "she", "her"), ("the farmer", "he", "his"), ("the teacher", "she", "her"),
    ("my mother", "she", "her"), ("my father", "he", "his"), ("the little girl", "she", "her"),
    ("the little boy", "he", "his"),
]
ANIMALS = ["cat", "dog", "bird", "horse", "cow", "duck", "rabbit", "fox", "mouse", "sheep"]
ADJ = ["little", "big", "old", "young", "happy", "sleepy", "small", "brown", "white", "black",
       "red", "green", "quiet", "busy", "kind", "tired", "hungry"]
PLACES = ["park", "garden", "house", "kitchen", "school", "field", "forest", "town", "market", "village"]
FOODS = ["apple", "orange", "banana", "cake", "bread", "egg", "pear", "sandwich"]
COLORS = ["red", "blue", "green", "yellow", "white", "black", "brown"]
AMOUNTS = ["ten", "twenty", "fifty", "a hundred", "five hundred", "some", "all of the"]
SEASONS = {"spring": "the flowers bloom", "summer": "the days are long and hot",
           "autumn": "the leaves fall from the trees", "winter": "the nights are long and cold"}
VERBS_PAST = ["opened", "closed", "cleaned", "painted", "carried", "found", "washed", "fixed", "moved", "lifted"]
THINGS = ["door", "window", "box", "chair", "table", "basket", "bucket", "letter", "bottle", "bicycle"]
JOBS = ["doctor", "baker", "farmer", "pilot", "painter", "teacher", "driver", "singer"]
JOB_DOES = {"doctor": "helps sick people", "baker": "bakes fresh bread", "farmer": "grows wheat and corn",
            "pilot": "flies the plane", "painter": "paints pictures", "teacher": "teaches the children",
            "driver": "drives the bus", "singer": "sings a song"}
DRINKS = ["tea", "milk", "water", "juice", "coffee"]
WEATHER = ["sunny", "rainy", "windy", "cloudy", "snowy", "warm", "cold"]
NUMBERS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "12", "20", "100"]
TIMES = ["Every morning", "Each morning", "In the morning", "At dawn", "Early in the morning"]
EVENINGS = ["Every evening", "Each evening", "In the evening", "At dusk", "Late in the day"]
DAYS = ["On Monday", "On Tuesday", "On Friday", "On Sunday", "One day", "Yesterday", "Last week"]


def cap(s):
    return s[0].upper() + s[1:]


class World:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def c(self, xs):
        return self.r.choice(xs)

    def person(self):
        x = self.r.random()
        if x < 0.6:
            return self.c(PEOPLE)
        if x < 0.8:
            return self.c(GENERIC)
        return self.c([("she", "she", "her"), ("he", "he", "his")])

    # ---- sun, moon, stars -------------------------------------------------
    def sun_sentence(self):
        r = self.r.randrange(14)
        if r == 0:
            return "The sun rises in the east."
        if r == 1:
            return "The sun rises in the east and sets in the west."
        if r == 2:
            return "The sun sets in the west."
        if r == 3:
            return f"{self.c(TIMES)} the sun rises in the east."
        if r == 4:
            return f"{self.c(EVENINGS)} the sun sets in the west."
        if r == 5:
            return "The sun always rises in the east."
        if r == 6:
            return "The sun always sets in the west."
        if r == 7:
            n, p, _ = self.person()
            return f"{cap(n)} woke up early and saw that the sun rises in the east."
        if r == 8:
            return "In the morning the sun rises in the east, and in the evening it sets in the west."
        if r == 9:
            return "The sun rose in the east and the sky turned " + self.c(["pink", "gold", "orange", "bright"]) + "."
        if r == 10:
            return "The sun set in the west and the sky grew " + self.c(["dark", "red", "quiet", "cold"]) + "."
        if r == 11:
            n, p, _ = self.person()
            return f"{cap(n)} knows that the sun sets in the west."
        if r == 12:
            return "Where does the sun rise? The sun rises in the east."
        return "Where does the sun set? The sun sets in the west."

    def night_sentence(self):
        return self.c([
            "The moon shines at night.",
            "At night the moon is bright and the stars shine.",
            "The stars shine in the dark sky.",
            "The moon is full tonight.",
            "Many stars are in the sky at night.",
            "The moon moves across the sky.",
            "After the sun sets, the stars come out.",
            "The moon is not as bright as the sun.",
            "At night we can see the moon and the stars.",
        ])

    def sky_doc(self):
        out = [self.sun_sentence()]
        for _ in range(self.r.randrange(1, 5)):
            x = self.r.random()
            if x < 0.55:
                out.append(self.sun_sentence())
            elif x < 0.8:
                out.append(self.night_sentence())
            else:
                out.append(self.simple_sentence())
        return " ".join(out)

    # ---- bank: the shared lead-in ---------------------------------------------
    def bank_lead(self, p):
        """The words before the verb of a bank story's second sentence. Money and river
        stories draw from this one list with the same weights: the lead-in itself says
        nothing about which bank it is."""
        x = self.r.random()
        if x < 0.40:
            return f"At the bank {p}"
        if x < 0.55:
            return f"At the bank, {p}"
        if x < 0.67:
            return f"By the bank {p}"
        if x < 0.77:
            return f"Near the bank {p}"
        if x < 0.88:
            return f"There {p}"
        return f"When {p} got to the bank, {p}"

    # ---- bank: money --------------------------------------------------------
    def money_action(self, p, pos):
        r = self.r.random()
        if r < 0.5:
            return f"deposited {self.c(AMOUNTS)} dollars into {pos} account."
        if r < 0.65:
            return f"withdrew {self.c(AMOUNTS)} dollars from {pos} account."
        if r < 0.8:
            return "asked the teller for a loan."
        if r < 0.9:
            return f"opened a new account and put {pos} money in it."
        return f"gave {pos} money to the teller."

    def money_doc(self):
        n, p, pos = self.person()
        N = cap(n)
        first = self.c([
            f"{N} took {pos} money to the bank.",
            f"{N} went to the bank with {pos} money.",
            f"{N} needed money, so {p} went to the bank.",
            f"{N} saved {pos} money and went to the bank.",
            f"{N} had {self.c(AMOUNTS)} dollars and took the money to the bank.",
            f"{N} walked into town to visit the bank.",
        ])
        out = [first, f"{self.bank_lead(p)} {self.money_action(p, pos)}"]
        for _ in range(self.r.randrange(1, 4)):
            out.append(self.c([
                "The teller counted the money.",
                f"The teller smiled at {'her' if p == 'she' else 'him'}.",
                f"The bank kept {pos} money safe.",
                f"{cap(p)} checked {pos} account.",
                "The bank gave a loan to the farmer.",
                f"{cap(p)} paid back the loan.",
                "Money in the bank is safe.",
                f"Then {p} {self.money_action(p, pos)}",
                f"The bank was busy, so {p} waited for the teller.",
                f"{cap(p)} put the money in {pos} account.",
            ]))
        if self.r.random() < 0.3:
            out.append(f"After that, {p} went home.")
        return " ".join(out)

    # ---- bank: river ----------------------------------------------------------
    def river_action(self, p, pos):
        r = self.r.random()
        if r < 0.5:
            return f"sat on the {self.c(['grass', 'soft grass', 'green grass'])} and watched the water."
        if r < 0.7:
            return "fished in the river."
        if r < 0.85:
            return "watched the boats float by."
        return f"saw a {self.c(['duck', 'fish', 'frog', 'bird'])} in the water."

    def river_doc(self):
        n, p, pos = self.person()
        N = cap(n)
        first = self.c([
            "The boat floated down the river to the bank.",
            f"{N} rowed {pos} boat down the river to the bank.",
            f"{N} rowed the boat down the river to the bank.",
            f"{N} walked along the river to the bank.",
            f"{N} took {pos} boat to the river.",
            "The river was wide and the water was cold.",
            f"{N} went fishing by the river.",
            "The boat drifted slowly down the river.",
        ])
        out = [first, f"{self.bank_lead(p)} {self.river_action(p, pos)}"]
        for _ in range(self.r.randrange(1, 4)):
            out.append(self.c([
                "Fish swim in the water.",
                "The grass on the river bank was green.",
                "The water in the river was clear.",
                "A boat floated by the bank.",
                f"{cap(p)} caught a big fish.",
                f"Then {p} {self.river_action(p, pos)}",
                "Ducks swam near the bank of the river.",
                "The river flows to the sea.",
                f"{cap(p)} sat by the water for a long time.",
            ]))
        return " ".join(out)

    # ---- everyday world ------------------------------------------------------
    def simple_sentence(self):
        r = self.r.randrange(12)
        n, p, pos = self.person()
        a = self.c(ANIMALS)
        if r == 0:
            return "The cat sat on the mat."
        if r == 1:
            return f"The {self.c(ADJ)} {a} sat on the mat."
        if r == 2:
            return f"The {a} {self.c(['sleeps', 'plays', 'runs', 'eats'])} in the {self.c(PLACES)}."
        if r == 3:
            return f"{cap(n)} ate {self.art(self.c(FOODS))}."
        if r == 4:
            return f"{self.c(DAYS)} {n} walked to the {self.c(PLACES)}."
        if r == 5:
            return f"{cap(n)} {self.c(['likes', 'loves', 'has'])} a {self.c(COLORS)} {self.c(['ball', 'hat', 'book', 'bag', 'kite'])}."
        if r == 6:
            return f"{cap(n)} will go to the {self.c(PLACES)} tomorrow."
        if r == 7:
            return f"{cap(n)} is reading a book in the {self.c(['garden', 'kitchen', 'house', 'park'])}."
        if r == 8:
            return self.c(["Birds fly in the sky.", "Fish swim in the water.", "Cows eat grass.",
                           "Rain falls from the clouds.", "Snow is cold and white.", "The grass is green.",
                           "The sky is blue.", "Dogs like to run."])
        if r == 9:
            return f"The {a} was {self.c(ADJ)}."
        if r == 10:
            return f"{cap(n)} gave {pos} {self.c(['friend', 'brother', 'sister', 'dog'])} {self.art(self.c(FOODS))}."
        return f"{cap(n)} saw a {self.c(ADJ)} {a} in the {self.c(PLACES)}."

    def world_sentence(self):
        n, p, pos = self.person()
        r = self.r.randrange(10)
        if r == 0:
            season = self.c(list(SEASONS))
            return f"In {season} {SEASONS[season]}."
        if r == 1:
            return f"{cap(n)} {self.c(VERBS_PAST)} the {self.c(THINGS)} {self.c(['slowly', 'quickly', 'carefully', 'again', 'today', 'at home'])}."
        if r == 2:
            return f"{cap(n)} wants to be a {self.c(JOBS)} when {p} grows up."
        if r == 3:
            job = self.c(JOBS)
            return f"The {job} {JOB_DOES[job]}."
        if r == 4:
            return f"{cap(n)} {self.c(['drank', 'wanted', 'made', 'shared'])} a cup of {self.c(DRINKS)} with {pos} {self.c(['friend', 'family', 'teacher', 'neighbour'])}."
        if r == 5:
            return f"It is {self.c(WEATHER)} today, so {n} {self.c(['stays inside', 'goes outside', 'takes an umbrella', 'wears a coat', 'plays in the garden'])}."
        if r == 6:
            return f"There are {self.c(NUMBERS)} {self.c(['apples', 'books', 'birds', 'trees', 'chairs', 'children', 'boats', 'coins'])} on the {self.c(['table', 'hill', 'shelf', 'floor', 'grass'])}."
        if r == 7:
            return f"{cap(n)} {self.c(['can', 'could', 'will', 'should'])} {self.c(['swim', 'sing', 'draw', 'cook', 'climb', 'count', 'write', 'dance'])} very well."
        if r == 8:
            return f"Why is {n} {self.c(['happy', 'sad', 'late', 'tired', 'hungry'])}? Because {p} {self.c(['lost a shoe', 'won a prize', 'missed the bus', 'found a coin', 'did not sleep'])}."
        return f"\"{self.c(['Hello', 'Good morning', 'Thank you', 'Look', 'Come here'])}!\" said {n}."

    def art(self, w):
        return ("an " if w[0] in "aeiou" else "a ") + w

    def story_doc(self):
        out = []
        for _ in range(self.r.randrange(2, 6)):
            out.append(self.simple_sentence() if self.r.random() < 0.5 else self.world_sentence())
        if self.r.random() < 0.3:
            out.insert(self.r.randrange(len(out) + 1), self.sun_sentence())
        return " ".join(out)

    def cat_doc(self):
        n, p, pos = self.person()
        out = [self.c(["The cat sat on the mat.", "The cat sat on the mat and slept.",
                       f"{cap(n)} has a cat.", "A little cat sat on the mat."])]
        for _ in range(self.r.randrange(1, 4)):
            out.append(self.c(["The cat sat on the mat.", "The cat was warm in the sun.",
                               "The dog sat on the rug.", f"The cat likes {pos} mat.",
                               "The cat ate its food.", f"{cap(p)} fed the cat.",
                               "The cat sat on the mat all day."]))
        return " ".join(out)

    def mixed_doc(self):
        # A paragraph that switches topics: context decides the next word.
        parts = [self.sky_doc(), self.money_doc(), self.river_doc(), self.story_doc(), self.cat_doc()]
        self.r.shuffle(parts)
        k = self.r.randrange(2, 4)
        return "\n\n".join(parts[:k])

    def document(self):
        x = self.r.random()
        if x < 0.22:
            return self.sky_doc()
        if x < 0.40:
            return self.money_doc()
        if x < 0.58:
            return self.river_doc()
        if x < 0.73:
            return self.story_doc()
        if x < 0.83:
            return self.cat_doc()
        return self.mixed_doc()


def generate(seed=DEFAULT_SEED, docs=DEFAULT_DOCS):
    """Return (train_docs, valid_docs) as lists of strings."""
    w = World(seed)
    all_docs = [w.document() for _ in range(docs)]
    n_valid = int(round(docs * VALIDATION_FRACTION))
    return all_docs[: docs - n_valid], all_docs[docs - n_valid:]


def join(docs):
    return EOT.join(docs) + EOT


def write(out_dir, seed=DEFAULT_SEED, docs=DEFAULT_DOCS):
    os.makedirs(out_dir, exist_ok=True)
    train, valid = generate(seed, docs)
    texts = {"train": join(train), "valid": join(valid), "all": join(train + valid)}
    for k, t in texts.items():
        with open(os.path.join(out_dir, f"seed_world_{k}.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write(t)
    b = texts["all"].encode("utf-8")
    info = {
        "generator": "tools/train/seed_world_corpus.py",
        "seed": seed,
        "documents": docs,
        "bytes": len(b),
        "sha256": hashlib.sha256(b).hexdigest(),
        "separator": EOT,
        "split": {
            "train_documents": len(train), "validation_documents": len(valid),
            "train_bytes": len(texts["train"].encode("utf-8")),
            "validation_bytes": len(texts["valid"].encode("utf-8")),
            "rule": f"last {int(VALIDATION_FRACTION * 100)}% of documents are validation",
        },
    }
    with open(os.path.join(out_dir, "seed_world_corpus.json"), "w") as f:
        json.dump(info, f, indent=2)
    return info


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), ".work"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--docs", type=int, default=DEFAULT_DOCS)
    a = ap.parse_args()
    print(json.dumps(write(a.out, a.seed, a.docs), indent=2))
