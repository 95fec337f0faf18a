#!/usr/bin/python3
"""Reference reader for the differential tests: what ConfigObj 5 makes of each file.

Run with Debian's /usr/bin/python3 (it has python3-configobj). Reads a JSON list of file paths
from argv[1:] or, when there are none, from stdin, and prints one JSON result per file, one a line,
in the same order:

  {"ok": TREE}          TREE = [[key, VALUE], ...] in file order,
                        VALUE = {"s": str} | {"l": [str, ...]} | {"sec": TREE}
  {"errors": [n, ...], "partial": TREE}
                        the 1-based line numbers of every error ConfigObj collected, and the
                        tree it had built all the same (ConfigObj goes on after an error)
  {"errors": "decode"}  the file is not valid UTF-8

With --patterns, reads a JSON list of [PATTERN, TEXT] from stdin and prints one JSON list with,
for each, what ConfigObj's own compiled pattern makes of TEXT: the groups of PATTERN.match(TEXT)
(null for no match), or for "list" the result of findall. PATTERN is keyword, section, value,
list, or "single" or "last" followed by the three quote characters of _triple_quote's key.
"""
import json
import os
import sys

# This file is itself named configobj.py: keep its own folder off the path so that the import
# below finds the real package.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

from configobj import ConfigObj, ConfigObjError  # noqa: E402


def tree(section):
    out = []
    # dict order is insertion order, i.e. the order of the file
    for key in dict.keys(section):
        value = dict.__getitem__(section, key)
        if isinstance(value, dict):
            out.append([key, {"sec": tree(value)}])
        elif isinstance(value, list):
            out.append([key, {"l": list(value)}])
        else:
            out.append([key, {"s": value}])
    return out


def read(path):
    try:
        return {"ok": tree(ConfigObj(path, interpolation=False))}
    except UnicodeDecodeError:
        return {"errors": "decode"}
    except (ConfigObjError, SyntaxError) as e:
        errors = getattr(e, "errors", None)
        out = {"errors": [err.line_number for err in errors] if errors else [getattr(e, "line_number", None)]}
        config = getattr(e, "config", None)
        if config is not None:
            out["partial"] = tree(config)
        return out


def patterns():
    by_name = {
        "keyword": ConfigObj._keyword,
        "section": ConfigObj._sectionmarker,
        "value": ConfigObj._valueexp,
    }
    for quote in ("'''", '"""'):
        by_name["single" + quote] = ConfigObj._triple_quote[quote][0]
        by_name["last" + quote] = ConfigObj._triple_quote[quote][1]
    out = []
    for name, text in json.load(sys.stdin):
        if name == "list":
            out.append(ConfigObj._listvalueexp.findall(text))
        else:
            m = by_name[name].match(text)
            out.append(None if m is None else list(m.groups()))
    json.dump(out, sys.stdout, ensure_ascii=True)


def main():
    if sys.argv[1:] == ["--patterns"]:
        patterns()
        return
    paths = sys.argv[1:] if len(sys.argv) > 1 else json.load(sys.stdin)
    out = sys.stdout
    for path in paths:
        out.write(json.dumps(read(path), ensure_ascii=True))
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
