#!/bin/sh
# data/fetch.sh without the network: usage, a clean and quick failure when offline, a fake
# proteins.zip served from a file:// URL (unpacked, decompressed, zip removed), a second run
# that downloads nothing, leftover .csv.gz decompressed, an archive that lacks a file, a
# download that is not a zip, and a missing tool. Closes with "N passed, N failed, N skipped".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
fetch="$root/data/fetch.sh"
passed=0 failed=0 skipped=0
ok() { echo "ok test_fetch: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL test_fetch: $1"; failed=$((failed + 1)); }
skip() { echo "SKIP test_fetch: $1"; skipped=$((skipped + 1)); }
# verdict STATUS NAME: the status of the checks just run
verdict() { if [ "$1" -eq 0 ]; then ok "$2"; else bad "$2 [$out]"; fi; }

tmp=$(mktemp -d /tmp/revgnn_test_fetch.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# bad arguments: a usage line, status 2
out=$("$fetch" bogus 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "^usage: .*proteins|arxiv|products|all"
verdict $? "bad argument prints usage"
out=$("$fetch" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "^usage:"
verdict $? "no argument prints usage"
out=$("$fetch" nosuch 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "unknown dataset 'nosuch'"
verdict $? "unknown dataset is named"

# offline: nothing listens on port 9 of this machine
start=$(date +%s)
out=$(RG_FETCH_URL_BASE=http://127.0.0.1:9 RG_FETCH_DIR="$tmp/offline" "$fetch" proteins 2>&1 >/dev/null); rc=$?
took=$(($(date +%s) - start))
[ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && [ $took -lt 30 ] &&
    echo "$out" | grep -q "cannot download http://127.0.0.1:9/proteins.zip (offline?)"
verdict $? "offline: one line, non-zero, within 30 s"
# the download tool's own reason, after ours (curl: "Failed to connect", wget: "refused")
echo "$out" | grep -q "(offline?): .*\(connect\|refused\)"
verdict $? "offline: keeps the download tool's reason"
[ -z "$(ls -A "$tmp/offline" 2>/dev/null)" ]
verdict $? "offline: nothing left behind"

if ! command -v curl >/dev/null 2>&1 || ! command -v zip >/dev/null 2>&1 || ! command -v gzip >/dev/null 2>&1; then
    skip "a fake download needs curl (file:// URLs), zip and gzip"
    echo "$passed passed, $failed failed, $skipped skipped"
    [ $failed -eq 0 ]
    exit
fi

# fake archives shaped like OGB's: one folder, gzipped CSV, a mapping/ folder as well
fake() { # name split [file to leave out]
    src=$tmp/src/$1
    rm -rf "$tmp/src"
    mkdir -p "$src/raw" "$src/split/$2" "$src/mapping" "$tmp/fake"
    printf '0,1\n1,2\n' > "$src/raw/edge.csv"
    printf '0.5,1\n0.25,2\n' > "$src/raw/edge-feat.csv"
    printf '1.5,2\n0,1\n3,3\n' > "$src/raw/node-feat.csv"
    printf '1,0\n0,1\n1,1\n' > "$src/raw/node-label.csv"
    printf '9606\n9606\n3702\n' > "$src/raw/node_species.csv"
    printf '3\n' > "$src/raw/num-node-list.csv"
    printf '2\n' > "$src/raw/num-edge-list.csv"
    printf '0\n' > "$src/split/$2/train.csv"
    printf '1\n' > "$src/split/$2/valid.csv"
    printf '2\n' > "$src/split/$2/test.csv"
    printf 'node idx,protein id\n' > "$src/mapping/nodeidx2proteinid.csv"
    [ -z "${3:-}" ] || rm "$src/$3"
    find "$src" -name '*.csv' -exec gzip {} +
    rm -f "$tmp/fake/$1.zip"
    (cd "$tmp/src" && zip -qr "$tmp/fake/$1.zip" "$1")
}
run() { RG_FETCH_URL_BASE="file://$tmp/fake" RG_FETCH_DIR="$tmp/data" "$fetch" "$@"; }

fake proteins species
out=$(run proteins 2>&1); rc=$?
d=$tmp/data/proteins
[ $rc -eq 0 ] && echo "$out" | grep -q "data/proteins: ready"
verdict $? "fake proteins: fetched"
[ "$(cat "$d/raw/edge.csv")" = "$(printf "0,1\n1,2")" ] && [ -s "$d/split/species/test.csv" ] &&
    [ -s "$d/mapping/nodeidx2proteinid.csv" ]
verdict $? "fake proteins: decompressed in place"
[ -z "$(find "$tmp/data" -name "*.gz")" ] && [ "$(ls -A "$tmp/data")" = proteins ]
verdict $? "fake proteins: no .gz, zip, part or unpack folder left"

# a second run downloads nothing: the source is gone
rm "$tmp/fake/proteins.zip"
out=$(run proteins 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "already complete" && ! echo "$out" | grep -q downloading
verdict $? "second run: skipped"

# an interrupted decompression: the .gz left behind is finished off
gzip "$d/raw/node-label.csv"
out=$(run proteins 2>&1); rc=$?
[ $rc -eq 0 ] && [ -s "$d/raw/node-label.csv" ] && [ ! -e "$d/raw/node-label.csv.gz" ]
verdict $? "leftover .csv.gz: decompressed"

# an archive without an expected file: named, nothing installed
fake arxiv time raw/node-feat.csv
out=$(run arxiv 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "lacks raw/node-feat.csv" &&
    [ ! -e "$tmp/data/arxiv" ] && [ ! -e "$tmp/data/.arxiv.unpack" ]
verdict $? "incomplete archive: names the missing file"

# a download that is not a zip
printf 'Not Found\n' > "$tmp/fake/products.zip"
out=$(run products 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "not a valid zip" && [ ! -e "$tmp/data/products.zip" ] &&
    [ ! -e "$tmp/data/products.zip.part" ]
verdict $? "not a zip: refused"

# a missing tool is named: a PATH with everything but unzip
mkdir "$tmp/bin"
for t in sh dirname curl gunzip gzip find mkdir rm mv; do
    p=$(command -v $t) && ln -s "$p" "$tmp/bin/$t"
done
out=$(PATH="$tmp/bin" RG_FETCH_DIR="$tmp/data" "$tmp/bin/sh" "$fetch" arxiv 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "needs unzip"
verdict $? "missing unzip: named"

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
