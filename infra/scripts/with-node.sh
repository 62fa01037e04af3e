#!/bin/sh
# Runs its arguments with a supported Node.js (24) first on PATH: the machine's when it is recent enough, else a
# private copy in the user's cache, installed from the npm registry the first time (infra/scripts/node-runtime.mjs).
# `exec` keeps the process tree as without this script: the command is still the child of npm's shell, so signals
# and the end of its parent reach it as before (the demo relies on both to stop what it started).
set -e
dir=$(node "$(dirname "$0")/node-runtime.mjs" --bin-dir)
PATH="$dir:$PATH"
export PATH
exec "$@"
