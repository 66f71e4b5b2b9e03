#!/bin/sh
# Runs each test program given, in order, and closes with one line summing their counts:
# "N passed, N failed, N skipped". Exits non-zero if any program failed or did not finish.
passed=0 failed=0 skipped=0 status=0
for prog in "$@"; do
    log=$(mktemp)
    $prog > "$log" 2>&1 # unquoted: an entry may carry arguments
    rc=$?
    cat "$log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
    rm -f "$log"
    if [ -z "$line" ]; then
        echo "$prog: exited with status $rc before its summary"
        failed=$((failed + 1)) status=1
        continue
    fi
    set -- $line
    passed=$((passed + $1)) failed=$((failed + $3)) skipped=$((skipped + $5))
    [ "$rc" -eq 0 ] || status=1
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || status=1
exit $status
