#!/bin/sh
# Prints the V8 flags mdevctl runs with, declared once: tools/write_launcher.sh
# puts them in the launcher, tools/build.sh bakes them into a compiled binary.
# All three keep the peak memory of large listings down (bench/analysis.md);
# none changed a listing's time measurably:
#  - a 1 MiB young generation: 2-3 MiB lower;
#  - no incremental marking and scavenges on the main thread only: objects
#    allocated during a concurrent marking and the pages parallel scavenges
#    promote into put the large host's `list` at 63.0-67.2 MiB from run to
#    run, 61.1-64.2 without (sandboxed launcher, ten runs each).
echo --max-semi-space-size=1,--no-parallel-scavenge,--no-incremental-marking
