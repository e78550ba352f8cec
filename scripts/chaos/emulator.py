"""The EventBridge emulator: moto's server, less one of its costs.

moto builds a JSONPath parser (a yacc table) anew for each of eight paths of every event it
routes to a target, which made it the busiest process of the campaign on a machine whose two
cores the replicas share with it. A parsed path is a pure function of its text, so each is
parsed once here. Run as `python emulator.py -p PORT`, like `moto_server`."""

import functools
import sys

import jsonpath_ng.ext
from moto.server import main

# moto imports `parse` from the module at each call, so the module's name is what to replace.
jsonpath_ng.ext.parse = functools.lru_cache(maxsize=None)(jsonpath_ng.ext.parse)

if __name__ == "__main__":
    sys.exit(main())
