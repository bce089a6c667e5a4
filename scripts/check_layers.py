#!/usr/bin/env python3
"""Checks that runtime/ keeps its layering (docs/design.md, "Layers"): a folder includes only
itself and the folders below it in LAYERS, the files directly in runtime/ (the public API glue)
may include anything, and no public header under include/ includes a private runtime/ file.
Prints every violation with the include that causes it; exit 1 if any. CI runs it (scripts/test.sh).
Usage: check_layers.py [CHECKOUT]"""
import os
import re
import sys

# Lowest first. A folder may include its own files and those of any folder before it.
LAYERS = ["base", "context", "stack", "core", "policy", "sync", "msg", "io"]

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
include_re = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
sources = (".hpp", ".cpp", ".h", ".S", ".inl", ".ipp")


def resolve(src, name):
    """The repository-relative file an #include "name" in src refers to, or None (system header)."""
    for base in (os.path.dirname(src), os.path.join(root, "runtime"), os.path.join(root, "include")):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(cand):
            return os.path.relpath(cand, root)
    return None


def layer_of(rel):
    """('runtime', index) for runtime/<layer>/..., ('top', None) for runtime/<file>, ('public', None) for include/."""
    parts = rel.split(os.sep)
    if parts[0] == "include":
        return "public", None
    if len(parts) == 2:
        return "top", None
    if parts[1] not in LAYERS:
        return "unknown", parts[1]
    return "runtime", LAYERS.index(parts[1])


problems = []
for top in ("runtime", "include"):
    for d, _, files in os.walk(os.path.join(root, top)):
        for f in files:
            if not f.endswith(sources):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root)
            kind, lv = layer_of(rel)
            if kind == "unknown":
                problems.append(f"{rel}: folder runtime/{lv}/ is not in LAYERS (scripts/check_layers.py, docs/design.md)")
                continue
            for name in include_re.findall(open(path, errors="replace").read()):
                tgt = resolve(path, name)
                if not tgt:
                    continue
                tkind, tlv = layer_of(tgt)
                if kind == "public" and tkind != "public":
                    problems.append(f"{rel} includes the private {tgt}: public headers include public headers only")
                elif kind == "runtime" and tkind == "top":
                    problems.append(f"{rel} includes {tgt}: files directly in runtime/ are the top layer")
                elif kind == "runtime" and tkind == "runtime" and tlv > lv:
                    problems.append(f"{rel} ({LAYERS[lv]}/) includes {tgt} ({LAYERS[tlv]}/), a higher layer: "
                                    "call upward through a seam the lower layer owns")

for p in problems:
    print("layering:", p)
print(f"layering: {len(problems)} problem(s); layers, lowest first: {' < '.join(LAYERS)} < runtime/*.cpp")
sys.exit(1 if problems else 0)
