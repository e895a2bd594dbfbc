"""A small labelled probe set for judging quality scorers (Ask-LLM prompts, perplexity) by AUROC.

Ask-LLM (arXiv 2402.09668) only helps if the scorer ranks good text above bad. Before spending a
pre-training run on a scorer, we measure that ranking on text whose quality we know by
construction: clean English paragraphs written procedurally (short stories and simple facts about
animals) and low-quality documents of the kinds web filters fight, made by the same code that puts
noise into training corpora (``mini_lib.corpora.noise``: word salad, shuffled sentences, website
boilerplate, truncated fragments, off-topic lists, keyword spam, repeated lines). Word salad draws
from the clean paragraphs' own words, so a scorer cannot win by spotting unusual words.

``python -m mini_lib.papers.data_selection.quality_probe`` scores the probe with the offline SmolLM2 scorer
under every Ask-LLM prompt variant and by perplexity, and prints the AUROC table.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from mini_lib.core.errors import ConfigError
from mini_lib.corpora.noise import LOW_QUALITY_KINDS, make_low_quality, word_pool


@dataclass(frozen=True)
class QualityProbe:
    """Texts with their ground truth: ``is_good`` (clean) and ``kind`` (how each was made)."""

    texts: list[str]
    is_good: np.ndarray
    kind: list[str]


def make_quality_probe(n_good: int = 100, n_bad: int = 100, *, seed: int = 0) -> QualityProbe:
    """``n_good`` clean paragraphs and ``n_bad`` low-quality documents (kinds in equal shares), shuffled."""
    if n_good < 1 or n_bad < 1:
        raise ConfigError(f"n_good and n_bad must be >= 1, got {n_good}, {n_bad}")
    rng = np.random.default_rng(seed)
    good = _unique(lambda: _clean_paragraph(rng), n_good)
    # Shuffled / truncated / repeated documents start from fresh clean paragraphs, not from the good set.
    pool = word_pool(good, rng)
    good_set = set(good)

    def fresh_clean() -> str:
        return _unique(lambda: _clean_paragraph(rng), 1, exclude=good_set)[0]

    kinds = [LOW_QUALITY_KINDS[i % len(LOW_QUALITY_KINDS)] for i in range(n_bad)]
    bad: list[str] = []
    for kind in kinds:
        bad += _unique(lambda: make_low_quality(kind, fresh_clean(), rng, pool), 1, exclude=good_set | set(bad))
    texts = good + bad
    labels = np.array([True] * n_good + [False] * n_bad)
    all_kinds = ["clean"] * n_good + kinds
    order = rng.permutation(len(texts))
    return QualityProbe([texts[i] for i in order], labels[order], [all_kinds[i] for i in order])


def main() -> None:
    """Score the probe with SmolLM2 (each prompt variant, and perplexity); print AUROC and timings."""
    from mini_lib.papers.data_selection.askllm import PROMPT_VARIANTS, ask_llm_scores
    from mini_lib.papers.data_selection.metrics import scorer_auroc
    from mini_lib.papers.data_selection.perplexity import perplexities
    from mini_lib.papers.data_selection.smollm2 import load_smollm2

    parser = argparse.ArgumentParser(description="AUROC of Ask-LLM prompt variants and perplexity on the probe set")
    parser.add_argument("--n", type=int, default=100, help="clean and low-quality documents each")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--variants", nargs="*", default=list(PROMPT_VARIANTS))
    args = parser.parse_args()

    probe = make_quality_probe(args.n, args.n, seed=args.seed)
    start = time.perf_counter()
    model, tokenizer = load_smollm2()
    print(f"SmolLM2-135M-Instruct ready in {time.perf_counter() - start:.1f} s; {len(probe.texts)} texts")
    print(f"{'scorer':<28}{'AUROC':>7}{'AUROC norm':>12}{'mean P(yes) good/bad':>24}{'seconds':>9}")
    for name in args.variants:
        start = time.perf_counter()
        s = ask_llm_scores(model, tokenizer, probe.texts, variant=name, batch_size=args.batch_size)
        took = time.perf_counter() - start
        means = f"{s.p_yes[probe.is_good].mean():.3f}/{s.p_yes[~probe.is_good].mean():.3f}"
        print(
            f"{'ask-llm ' + name:<28}{scorer_auroc(s.p_yes, probe.is_good):>7.3f}"
            f"{scorer_auroc(s.p_yes_normalised, probe.is_good):>12.3f}{means:>24}{took:>9.1f}"
        )
    start = time.perf_counter()
    ppl = perplexities(model, tokenizer, probe.texts, batch_size=args.batch_size)
    took = time.perf_counter() - start
    print(f"{'perplexity (lower=good)':<28}{scorer_auroc(-ppl, probe.is_good):>7.3f}{'':>12}{'':>24}{took:>9.1f}")
    for kind in LOW_QUALITY_KINDS:
        keep = np.array([k in ("clean", kind) for k in probe.kind])
        print(f"  perplexity AUROC clean vs {kind:<14}{scorer_auroc(-ppl[keep], probe.is_good[keep]):.3f}")


# --- procedural clean text -------------------------------------------------------------------

_PEOPLE = [
    ("Mia", "she", "her"), ("Tom", "he", "his"), ("Lena", "she", "her"), ("Sam", "he", "his"),
    ("Ava", "she", "her"), ("Leo", "he", "his"), ("Nora", "she", "her"), ("Ben", "he", "his"),
    ("Ruth", "she", "her"), ("Omar", "he", "his"), ("Ella", "she", "her"), ("Jack", "he", "his"),
]
_JOBS = {
    "baker": ("baked fresh bread for the whole village", "the oven was too cold", "lit a bigger fire",
              "the whole street smelled of warm bread"),
    "farmer": ("grew carrots and beans in a big field", "no rain fell for many weeks",
               "carried water from the river in two buckets", "the plants grew tall and green again"),
    "fisherman": ("sailed out in a small boat to catch fish", "a storm tore a hole in the net",
                  "sat on the beach and mended it with strong rope", "the next catch was the biggest of the year"),
    "teacher": ("taught the children to read and count", "one boy was too shy to read aloud",
                "let him read to the class rabbit first", "soon he was reading to everyone"),
    "gardener": ("looked after the roses in the park", "hungry snails ate the young leaves",
                 "put a ring of sand around each plant", "the roses bloomed all summer"),
    "carpenter": ("made tables and chairs from oak wood", "a chair for the mayor came out too short",
                  "built a new one and measured twice", "the mayor was very pleased"),
    "nurse": ("cared for sick people at the town clinic", "the clinic ran out of clean bandages",
              "washed and boiled the old ones", "every patient was looked after that night"),
    "painter": ("painted pictures of the mountains", "the blue paint ran out before the sky was done",
                "mixed a new blue from white and dark ink", "the painting was hung in the town hall"),
}
_PLACES = ["in a small village by the sea", "on a farm near the hills", "in a busy market town",
           "at the edge of a quiet forest", "in a cabin beside a lake", "in an old house on a narrow street"]
_TIMES = ["One spring", "Last summer", "One cold winter", "Early one autumn", "One windy week"]
_FEELINGS = [("worried", "proud"), ("sad", "happy"), ("upset", "relieved"), ("tired", "glad")]

_ANIMALS = [
    ("Cows", "on farms and in open fields", "grass and hay",
     "have a stomach with four parts that helps them digest tough plants", "give milk that people drink"),
    ("Penguins", "along cold southern coasts", "fish and small shrimp called krill",
     "cannot fly, but they are fast and strong swimmers", "keep their eggs warm on their feet"),
    ("Bees", "in hives and hollow trees", "nectar and pollen from flowers",
     "carry pollen from flower to flower, which helps plants make seeds", "turn nectar into honey"),
    ("Camels", "in hot, dry deserts", "dry grass and thorny plants",
     "can walk for days without drinking water", "store fat in the humps on their backs"),
    ("Owls", "in forests and barns", "mice, voles and insects",
     "hunt at night and find their prey by sound", "can turn their heads much further than people can"),
    ("Frogs", "near ponds, lakes and streams", "insects and worms",
     "begin their lives as tadpoles that swim and breathe under water", "catch flies with a long sticky tongue"),
    ("Elephants", "in the grasslands and forests of Africa and Asia", "grass, leaves, bark and fruit",
     "use their long trunks to drink and to pick up food", "are the largest animals that live on land"),
    ("Squirrels", "in trees in parks and woods", "nuts, seeds and berries",
     "bury nuts in the autumn and dig them up in the winter", "use their bushy tails for balance"),
    ("Dolphins", "in warm oceans and seas", "fish and squid",
     "breathe air through a hole on the top of their heads", "live in groups and call to each other with clicks"),
    ("Spiders", "in gardens, houses and forests", "flies and other small insects",
     "spin webs of silk to catch their food", "have eight legs, unlike insects, which have six"),
]


def _clean_paragraph(rng: np.random.Generator) -> str:
    return _story(rng) if rng.random() < 0.6 else _animal_fact(rng)


def _story(rng: np.random.Generator) -> str:
    name, she, her = _PEOPLE[rng.integers(len(_PEOPLE))]
    job = list(_JOBS)[rng.integers(len(_JOBS))]
    habit, problem, fix, outcome = _JOBS[job]
    before, after = _FEELINGS[rng.integers(len(_FEELINGS))]
    place = _PLACES[rng.integers(len(_PLACES))]
    when = _TIMES[rng.integers(len(_TIMES))]
    friend = _PEOPLE[rng.integers(len(_PEOPLE))][0]
    helper = f" {friend} came to help, and together they" if friend != name and rng.random() < 0.5 else f" So {she}"
    return (
        f"{name} was a {job} who lived {place}, where {she} {habit}. {when}, {problem}, "
        f"and {name} felt {before}.{helper} {fix}. In the end {outcome}, and {name} was {after} "
        f"that {her} hard work had paid off."
    )


def _animal_fact(rng: np.random.Generator) -> str:
    animal, home, food, trait, extra = _ANIMALS[rng.integers(len(_ANIMALS))]
    sentences = [f"{animal} live {home}.", f"They eat mostly {food}.", f"{animal} {trait}.", f"They also {extra}."]
    first, rest = sentences[0], sentences[1:]
    rest = [rest[i] for i in rng.permutation(len(rest))]
    closing = ["", " Scientists still study them to learn more about how they live.",
               " Many children first learn about them at school."][rng.integers(3)]
    return " ".join([first] + rest) + closing


def _unique(make, n: int, exclude: set[str] = frozenset(), max_tries: int = 100_000) -> list[str]:
    seen, out = set(exclude), []
    for _ in range(max_tries):
        text = make()
        if text not in seen:
            seen.add(text)
            out.append(text)
            if len(out) == n:
                return out
    raise ConfigError(f"could only write {len(out)} distinct paragraphs, asked for {n}")


if __name__ == "__main__":
    main()
