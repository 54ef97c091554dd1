#!/usr/bin/env python3
"""Expected similarity scores from the reference libraries, for tests/fixtures/metrics/reference.json.

Run `scripts/reference-metrics.sh` (it makes the venv); the Rust test
(`similarity::tests::metrics_match_their_references`) reads the JSON this prints and never runs
Python. Word metrics get the words evals's tokenizer gives (lower-cased runs of letters and
digits, each Chinese or Japanese character a word), so the libraries compare the same tokens.

- fuzzy: rapidfuzz `fuzz.ratio` / 100; levenshtein: rapidfuzz `Levenshtein.normalized_similarity`
- bleu: nltk `sentence_bleu`, default weights, `SmoothingFunction().method2`
- gleu: nltk `sentence_gleu`
- meteor: nltk's default `meteor_score` (exact words, Porter stems, WordNet 3.0 synonyms);
  meteor_stem: the same without the WordNet stage, which is what evals computes (WordNet is a
  28 MB database that evals does not ship)
- stems: nltk `PorterStemmer().stem` of every 40th single word of WordNet's indexes
- rouge_1..rouge_5, rouge_l: rouge-score F-measure, no stemming
"""

import json
import sys
from importlib.metadata import version

from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from nltk.translate.gleu_score import sentence_gleu
from nltk.corpus import wordnet
from nltk.stem.porter import PorterStemmer
from nltk.translate.meteor_score import meteor_score
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein
from rouge_score import rouge_scorer

# (candidate, reference): short outputs, repeated words, reordering, no overlap, CJK.
PAIRS = [
    ("the cat sat on the mat", "the cat sat on a mat"),
    ("The cat sat on the mat.", "The cat sat on the mat."),
    ("very very very good", "very good"),
    ("Paris", "Paris"),
    ("Paris", "Sunny in Paris"),
    ("sunny Paris", "It is sunny in Paris today"),
    ("Paris is sunny", "Sunny in Paris!"),
    ("It is raining in Rome", "Sunny in Paris"),
    ("the weather in Paris is sunny and warm", "Paris weather: sunny, warm, light wind"),
    ("a b c d e f", "f e d c b a"),
    ("the the the the", "the cat"),
    ("Your order 1234 ships on Monday", "Order 1234 will ship Monday"),
    ("I cannot help with that request", "Sorry, I can't help with that."),
    ("The meeting is at 3pm in room B", "The meeting is in room B at 3pm"),
    ("我喜欢猫", "我喜欢狗"),
    ("東京は晴れです", "今日の東京は晴れ"),
    ("Temperature: 21 C, wind 5 km/h", "21 C and wind of 5 km/h"),
    ("yes", "no"),
    ("ok ok", "ok"),
    ("refund approved for order 77", "order 77 refund approved"),
    ("The shipments were delayed by the storms", "shipment delayed: storm"),
    ("running dogs barked loudly", "the dog runs and barks"),
]


def unspaced(c):
    o = ord(c)
    return (
        0x3040 <= o <= 0x30FF
        or 0x31F0 <= o <= 0x31FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF66 <= o <= 0xFF9D
        or 0x20000 <= o <= 0x3134F
    )


def tokens(text):
    words, word = [], ""
    for c in text:
        if c.isalnum() and not unspaced(c):
            word += c
            continue
        if word:
            words.append(word.lower())
            word = ""
        if unspaced(c):
            words.append(c)
    if word:
        words.append(word.lower())
    return words


class Tokens:
    def tokenize(self, text):
        return tokens(text)


class NoSynonyms:
    def synsets(self, *_args, **_kwargs):
        return []


def main():
    rouge = rouge_scorer.RougeScorer(
        ["rouge1", "rouge2", "rouge3", "rouge4", "rouge5", "rougeL"], tokenizer=Tokens()
    )
    rows = []
    for cand, ref in PAIRS:
        c, r = tokens(cand), tokens(ref)
        scores = rouge.score(ref, cand)
        rows.append(
            {
                "candidate": cand,
                "reference": ref,
                "tokens": [c, r],
                "fuzzy": fuzz.ratio(cand, ref) / 100,
                "levenshtein": Levenshtein.normalized_similarity(cand, ref),
                "bleu": float(sentence_bleu([r], c, smoothing_function=SmoothingFunction().method2)),
                "gleu": sentence_gleu([r], c),
                "meteor": meteor_score([r], c),
                "meteor_stem": meteor_score([r], c, wordnet=NoSynonyms()),
                **{f"rouge_{n}": scores[f"rouge{n}"].fmeasure for n in range(1, 6)},
                "rouge_l": scores["rougeL"].fmeasure,
            }
        )
    words = sorted({w for w in wordnet.all_lemma_names() if w.isalpha() and w.islower()})[::40]
    stemmer = PorterStemmer()
    out = {
        "generated_by": "scripts/reference-metrics.sh",
        "wordnet": wordnet.get_version(),
        "libraries": {p: version(p) for p in ["nltk", "rouge-score", "rapidfuzz"]},
        "pairs": rows,
        "stems": {w: stemmer.stem(w) for w in words},
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
