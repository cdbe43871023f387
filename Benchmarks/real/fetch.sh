#!/usr/bin/env bash
# fetch.sh OWNER/NAME DEST: the newest commit of a GitHub repository, its files
# (no history) in DEST, once. Taken from $GIT_MIRROR/OWNER+NAME/repo (a bare
# clone, as a machine without internet keeps them) when there is one, else
# cloned from GitHub. Nothing fetched is committed: DEST is under Benchmarks/out/.
set -euo pipefail
repo="$1" dest="$2"
[ -e "$dest/.fetched" ] && exit 0
rm -rf "$dest"
mkdir -p "$dest"
mirror="${GIT_MIRROR:-}/${repo/\//+}/repo"
if [ -n "${GIT_MIRROR:-}" ] && [ -d "$mirror" ]; then
    git --git-dir="$mirror" archive HEAD | tar -x -C "$dest"
    git --git-dir="$mirror" rev-parse HEAD > "$dest/.fetched"
else
    git clone --quiet --depth 1 "https://github.com/$repo" "$dest"
    git -C "$dest" rev-parse HEAD > "$dest/.fetched"
fi
echo "fetched $repo at $(cat "$dest/.fetched")" >&2
