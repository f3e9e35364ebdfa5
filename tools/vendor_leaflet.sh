#!/usr/bin/env bash
# Vendor Leaflet's npm release into the package (bot/web/static/vendor/leaflet), with its licence
# and a manifest of what was taken (VENDORED.json). The bot never loads Leaflet from a CDN: the
# 112 room's LAN may be up while the internet is down. Usage: tools/vendor_leaflet.sh [VERSION]
# To upgrade: run with the new version, look at the board in a browser, run `make test`, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-1.9.4}"
target=bot/web/static/vendor/leaflet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "leaflet@$version" >/dev/null && tar xzf "leaflet-$version.tgz")
tarball_sha="$(sha256sum "$work/leaflet-$version.tgz" | cut -d' ' -f1)"
rm -rf "$target"
mkdir -p "$target/images"
cp "$work/package/dist/leaflet.js" "$work/package/dist/leaflet.css" "$target/"
cp "$work"/package/dist/images/*.png "$target/images/"
cp "$work/package/LICENSE" "$target/LICENSE"
python3 - "$target" "$version" "$tarball_sha" <<'PY'
import hashlib, json, pathlib, sys
target, version, tarball = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
files = {
    str(p.relative_to(target)): hashlib.sha256(p.read_bytes()).hexdigest()
    for p in sorted(target.rglob("*")) if p.is_file() and p.name != "VENDORED.json"
}
manifest = {
    "package": "leaflet",
    "version": version,
    "registry": f"https://registry.npmjs.org/leaflet/-/leaflet-{version}.tgz",
    "tarball_sha256": tarball,
    "licence": "BSD-2-Clause (LICENSE, beside these files)",
    "files": files,
}
(target / "VENDORED.json").write_text(json.dumps(manifest, indent=2) + "\n")
PY
echo "leaflet $version vendored into $target (tarball sha256 $tarball_sha)"
