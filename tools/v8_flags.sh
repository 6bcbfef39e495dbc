#!/bin/sh
# Prints the V8 flags mdevctl runs with, declared once: tools/write_launcher.sh
# puts them in the launcher, tools/build.sh bakes them into a compiled binary.
#  - a 1 MiB young generation: large listings peak 2-3 MiB lower;
#  - scavenges on the main thread only: parallel ones promote into pages of
#    their own per thread, and the large host's `list` peaked at 63-67 MiB
#    instead of 62-63, at the same speed (bench/analysis.md).
echo --max-semi-space-size=1,--no-parallel-scavenge
