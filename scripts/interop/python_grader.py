"""OpenAI's documented python grader, pasted unchanged into a suite, scores as rapidfuzz does.

Usage: python_grader.py EVALS_BINARY WORKDIR (run by scripts/interop.sh with the venv's python,
which has rapidfuzz at the version of the hosted grader image, first on PATH, so the grader's
`python3` can import it). The grader and its test pair are the "Python graders" example of
https://developers.openai.com/api/docs/guides/graders: item {"reference_answer": "fuzzy wuzzy
had no hair"}, sample "fuzzy wuzzy was a bear".
"""

import json
import os
import subprocess
import sys
from importlib.metadata import version

from rapidfuzz import fuzz, utils

evals, work = sys.argv[1], sys.argv[2]
os.makedirs(f"{work}/evals", exist_ok=True)

# The guide's `grading_function`, verbatim.
grading_function = """
from rapidfuzz import fuzz, utils

def grade(sample, item) -> float:
    output_text = sample["output_text"]
    reference_answer = item["reference_answer"]
    return fuzz.WRatio(output_text, reference_answer, processor=utils.default_process) / 100.0
"""
reference_answer, model_sample = "fuzzy wuzzy had no hair", "fuzzy wuzzy was a bear"


def cli(*args):
    out = subprocess.run([evals, *args], capture_output=True, text=True, cwd=work)
    if out.returncode not in (0, 1):
        sys.exit(f"[python grader] evals {' '.join(args)} exited {out.returncode}:\n{out.stdout}{out.stderr}")
    return out.stdout


# A case whose item carries the guide's `reference_answer` (trace metadata is at the top of
# `item`): imported as an OpenAI evals sample, then given the key through a whole-case line.
with open(f"{work}/sample.jsonl", "w") as f:
    f.write(json.dumps({"input": [{"role": "user", "content": "Tell me about fuzzy wuzzy"}], "ideal": reference_answer}) + "\n")
cli("dataset", "import", "sample.jsonl", "--format", "openai-evals", "--dataset", "first")
case = json.loads(cli("dataset", "export", "first", "--format", "jsonl").splitlines()[0])
case["source"]["metadata"] = {"reference_answer": reference_answer}
for name in os.listdir(f"{work}/datasets/first"):
    os.remove(f"{work}/datasets/first/{name}")
with open(f"{work}/case.jsonl", "w") as f:
    f.write(json.dumps(case) + "\n")
cli("dataset", "import", "case.jsonl", "--format", "jsonl", "--dataset", "fuzzy")

with open(f"{work}/evals/mock.yaml", "w") as f:
    f.write(f"default: {{text: '{model_sample}'}}\n")
grader = {"type": "python", "name": "guide example", "source": grading_function}
suite = {
    "name": "python-grader",
    "target": {"model": "fake-model"},
    "provider": {"mock": "mock.yaml"},
    "cases": ["../datasets/fuzzy"],
    # JSON is YAML: the grader object goes in as the guide builds it.
    "graders": [grader],
    "gate": {"min_pass_rate": 0.0},
}
with open(f"{work}/evals/fuzzy.yaml", "w") as f:
    json.dump(suite, f, indent=1)
cli("run", "evals/fuzzy.yaml", "--out", "run.json")
with open(f"{work}/run.json") as f:
    run = json.load(f)
(result,) = run["results"]
(grade,) = result["grades"]
want = fuzz.WRatio(model_sample, reference_answer, processor=utils.default_process) / 100.0
if grade.get("error") or abs(grade["score"] - want) > 1e-9:
    sys.exit(f"[python grader] the guide's grader scored {grade}, rapidfuzz gives {want}")
print(f"python grader: the guide's example scores {grade['score']:.4f}, as rapidfuzz {version('rapidfuzz')} does")
