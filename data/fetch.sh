#!/bin/sh
# Downloads OGB node-property datasets from OGB's own addresses and unpacks them into
# data/<name>/ as decompressed CSV, the layout rg_dataset_load_ogb reads:
#
#   data/fetch.sh proteins|arxiv|products|all
#
# e.g. data/proteins/raw/edge.csv and data/proteins/split/species/train.csv. Idempotent: a
# complete dataset is skipped, a verified zip is not downloaded again, leftover .csv.gz files
# are decompressed. Needs sh, curl or wget, unzip and gunzip; nothing else in revgnn touches
# the network. For tests: RG_FETCH_URL_BASE replaces the address the zips come from (a
# file:// URL works with curl) and RG_FETCH_DIR the folder they go to (default: this one).
set -u

die() { echo "fetch.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 proteins|arxiv|products|all" >&2; exit 2; }

base=${RG_FETCH_URL_BASE:-http://snap.stanford.edu/ogb/data/nodeproppred}
dest=${RG_FETCH_DIR:-$(cd "$(dirname "$0")" && pwd)}

# the files each dataset must have once unpacked, relative to data/<name>
expected() {
    case $1 in
    proteins) echo raw/edge.csv raw/edge-feat.csv raw/node-label.csv raw/node_species.csv \
        raw/num-node-list.csv raw/num-edge-list.csv split/species/train.csv split/species/valid.csv \
        split/species/test.csv ;;
    arxiv) echo raw/edge.csv raw/node-feat.csv raw/node-label.csv raw/num-node-list.csv \
        raw/num-edge-list.csv split/time/train.csv split/time/valid.csv split/time/test.csv ;;
    products) echo raw/edge.csv raw/node-feat.csv raw/node-label.csv raw/num-node-list.csv \
        raw/num-edge-list.csv split/sales_ranking/train.csv split/sales_ranking/valid.csv \
        split/sales_ranking/test.csv ;;
    esac
}

case ${1:-} in
proteins | arxiv | products) names=$1 ;;
all) names="proteins arxiv products" ;;
"") usage ;;
*) echo "fetch.sh: unknown dataset '$1'" >&2; usage ;;
esac
[ $# -eq 1 ] || usage

have() { command -v "$1" >/dev/null 2>&1; }
if have curl; then
    fetcher=curl
elif have wget; then
    fetcher=wget
else
    die "needs curl or wget: neither was found"
fi
for tool in unzip gunzip find; do
    have $tool || die "needs $tool: it was not found"
done

# url file errfile: fails fast when offline (connect timeout) and on a stalled transfer; the
# tool's own error message goes to errfile
download() {
    if [ $fetcher = curl ]; then
        curl -fsSL --connect-timeout 15 --speed-limit 1024 --speed-time 60 -o "$2" "$1" 2>"$3"
    else
        wget -nv --connect-timeout=15 --read-timeout=60 --tries=1 -O "$2" "$1" 2>"$3"
    fi
}

# folder name: the first expected file it lacks, or nothing
missing() {
    for f in $(expected "$2"); do
        [ -s "$1/$f" ] || { echo "$f"; return; }
    done
}

gunzip_all() {
    find "$1" -name '*.csv.gz' -exec gunzip -f {} + || die "cannot decompress the .csv.gz files under $1"
}

fetch_one() {
    name=$1
    dir=$dest/$name
    zip=$dest/$name.zip
    url=$base/$name.zip
    if [ -d "$dir" ]; then
        gunzip_all "$dir"
        if [ -z "$(missing "$dir" "$name")" ]; then
            echo "data/$name: already complete"
            return 0
        fi
    fi
    mkdir -p "$dest" || die "cannot create $dest"
    if [ -s "$zip" ] && unzip -tq "$zip" >/dev/null 2>&1; then
        echo "data/$name: unpacking the downloaded $zip"
    else
        echo "data/$name: downloading $url"
        rm -f "$zip.part" "$zip.err"
        if ! download "$url" "$zip.part" "$zip.err"; then
            why=$(tr -s '\n' ' ' < "$zip.err" | sed 's/ *$//')
            rm -f "$zip.part" "$zip.err"
            die "cannot download $url (offline?): ${why:-no reason given by $fetcher}"
        fi
        rm -f "$zip.err"
        [ -s "$zip.part" ] || { rm -f "$zip.part"; die "$url: the download is empty"; }
        unzip -tq "$zip.part" >/dev/null 2>&1 || { rm -f "$zip.part"; die "$url: the download is not a valid zip"; }
        mv "$zip.part" "$zip" || die "cannot write $zip"
    fi
    # the archive holds one folder (proteins/ ...): unpack aside, check, then move into place
    tmp=$dest/.$name.unpack
    rm -rf "$tmp"
    mkdir "$tmp" || die "cannot create $tmp"
    unzip -q "$zip" -d "$tmp" || { rm -rf "$tmp"; die "cannot unpack $zip"; }
    set -- "$tmp"/*
    if [ $# -ne 1 ] || [ ! -d "$1" ]; then
        rm -rf "$tmp"
        die "$zip does not hold a single folder"
    fi
    gunzip_all "$1"
    lack=$(missing "$1" "$name")
    [ -z "$lack" ] || { rm -rf "$tmp"; die "$zip lacks $lack after unpacking"; }
    rm -rf "$dir"
    mv "$1" "$dir" || die "cannot move the unpacked files to $dir"
    rm -rf "$tmp" "$zip"
    echo "data/$name: ready"
}

for name in $names; do
    fetch_one "$name"
done
