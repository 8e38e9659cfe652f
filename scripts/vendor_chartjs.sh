#!/usr/bin/env bash
# Refresh frontend/vendor/chart.umd.min.js from the Chart.js npm package (no CDN at run time).
# Usage: scripts/vendor_chartjs.sh [version-spec]   (default: 4, the newest 4.x)
set -euo pipefail
spec="${1:-4}"
dest="$(cd "$(dirname "$0")/.." && pwd)/frontend/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
tarball="$(npm pack --silent "chart.js@${spec}" | tail -n 1)"
tar xzf "$tarball"
version="$(node -p 'require("./package/package.json").version')"
case "$version" in 4.*) ;; *) echo "expected Chart.js 4.x, got $version" >&2; exit 1 ;; esac
src="package/dist/chart.umd.min.js"
note="dist/chart.umd.min.js, byte for byte"
if [ ! -f "$src" ]; then
  # Some 4.x releases ship only the unminified UMD build; vendor it under the same name.
  src="package/dist/chart.umd.js"
  note="dist/chart.umd.js (this release ships no chart.umd.min.js), renamed"
fi
mkdir -p "$dest"
cp "$src" "$dest/chart.umd.min.js"
cp package/LICENSE.md "$dest/LICENSE"
sha="$(sha256sum "$dest/chart.umd.min.js" | cut -d' ' -f1)"
cat > "$dest/VERSION" <<NOTE
Chart.js ${version} (MIT licence, see LICENSE)
source: npm package chart.js@${version} (${tarball}), file ${note}
sha256: ${sha}
refreshed: $(date -u +%Y-%m-%d) with \`make vendor-chartjs\` (scripts/vendor_chartjs.sh)
NOTE
echo "vendored Chart.js ${version} -> ${dest}/chart.umd.min.js"
