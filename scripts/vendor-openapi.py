#!/usr/bin/env python3
"""Cut the CreateResponse request schema out of OpenAI's published OpenAPI document.

Usage: scripts/vendor-openapi.py OPENAPI_JSON COMMIT > tests/fixtures/openapi/create-response.schema.json

OPENAPI_JSON is openapi.json of github.com/openai/openai-openapi (MIT licensed) at COMMIT. The
output is one JSON Schema (2020-12, which OpenAPI 3.1 schemas are) holding CreateResponse and
every schema it reaches under $defs. Descriptions, examples and vendor extensions are dropped:
they do not validate anything and would only make the file large.
"""
import json
import sys

DROP = {"description", "examples", "example", "title", "deprecated", "discriminator"}
PREFIX = "#/components/schemas/"


def clean(node, refs, name):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in DROP or k.startswith("x-") or k == "$recursiveAnchor":
                continue
            # Draft 2019-09 recursion (CompoundFilter nests itself) as a plain 2020-12 $ref.
            if k == "$recursiveRef" and v == "#":
                out["$ref"] = "#/$defs/" + name
                continue
            if k == "$ref" and isinstance(v, str) and v.startswith(PREFIX):
                refs.append(v[len(PREFIX):])
                out[k] = "#/$defs/" + v[len(PREFIX):]
                continue
            # A property may be named like a dropped keyword: keep the names of properties.
            out[k] = {p: clean(s, refs, name) for p, s in v.items()} if k == "properties" else clean(v, refs, name)
        return out
    if isinstance(node, list):
        return [clean(v, refs, name) for v in node]
    return node


def main():
    doc = json.load(open(sys.argv[1], encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    defs, todo = {}, ["CreateResponse"]
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        refs = []
        defs[name] = clean(schemas[name], refs, name)
        todo.extend(refs)
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": f"CreateResponse from github.com/openai/openai-openapi openapi.json at {sys.argv[2]} "
        "(MIT, Copyright (c) OpenAI); cut by scripts/vendor-openapi.py",
        "$ref": "#/$defs/CreateResponse",
        "$defs": dict(sorted(defs.items())),
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


main()
