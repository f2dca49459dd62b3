#!/usr/bin/env bash
# Render the digest's HTML page in headless Chromium with the network cut off, to a PNG.
# A check by eye that the page is self-contained (no fonts, scripts or images to fetch):
# every request would go to a dead proxy. Needs Debian's chromium (apt-get install chromium).
#   bash scripts/render_digest.sh [DIGEST.html] [OUT.png] [HEIGHT]
# HEIGHT is the window's height in pixels (default 4000: the whole page of the demo's digest).
set -euo pipefail
cd "$(dirname "$0")/.."
html="${1:-$( (ls -t warehouse/digests/*.html 2>/dev/null || true) | head -1)}"
out="${2:-${html%.html}.png}"
height="${3:-4000}"
case "$height" in ''|*[!0-9]*) echo "HEIGHT must be a number of pixels" >&2; exit 2 ;; esac
[ -f "$html" ] || { echo "no digest HTML found: run 'northstar digest' first" >&2; exit 6; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --proxy-server=127.0.0.1:9 --user-data-dir="$profile" --window-size=1100,"$height" \
    --screenshot="$out" "file://$(realpath "$html")" 2>/dev/null
echo "wrote $out"
