#!/usr/bin/env bash
# Outputs are whole, ours, and never clobber what they should not (issue 17, rule 4), for either
# driver: `outputs_test.sh build/zimpute` or `outputs_test.sh node --no-experimental-fetch
# wasm/zimpute-node.mjs`. Two outputs on one file, an output on an input, a missing directory:
# refused before any work. Devices written in place. Two writers of one path: a whole result.
# A full disk (a small tmpfs in a private mount namespace): an error, the old result intact, no
# temporary left. A kill while writing: no temporary left.
set -u
Z=("$@")
case "${Z[0]}" in /*) ;; *) [ -e "${Z[0]}" ] && Z[0]="$PWD/${Z[0]}" ;; esac
for k in "${!Z[@]}"; do case "${Z[$k]}" in *.mjs) Z[$k]="$(cd "$(dirname "${Z[$k]}")" && pwd)/$(basename "${Z[$k]}")" ;; esac; done
source "$(dirname "${BASH_SOURCE[0]}")/shell_check.sh"
no_temps() { ! ls -a "${1:-.}" | grep -q 'zimpute-'; }

"${Z[@]}" simulate --out d.csv --genes 60 --cells 80 --seed 3 > /dev/null
cp d.csv d.orig

"${Z[@]}" impute --data d.csv --out r.csv --metrics r.csv --epochs 1 > /dev/null 2> err.txt
check "two outputs on one file: exit 1" test $? -eq 1
check "two outputs on one file: said" grep -q "^zimpute: error: --out and --metrics name the same file 'r.csv'" err.txt
check "two outputs on one file: nothing written" test ! -e r.csv
"${Z[@]}" impute --data d.csv --out ./d.csv --epochs 1 > /dev/null 2> err.txt
check "output on the input: refused" grep -q "^zimpute: error: --out './d.csv' is the input --data" err.txt
check "output on the input: the input intact" cmp -s d.csv d.orig
"${Z[@]}" impute --data d.csv --out nodir/r.csv --epochs 1 > /dev/null 2> err.txt
check "missing directory: refused before training" \
    bash -c "grep -q \"^zimpute: error: --out 'nodir/r.csv': the directory 'nodir' does not exist\" err.txt && ! grep -q 'training on' err.txt"
mkdir sub
"${Z[@]}" impute --data d.csv --out sub --epochs 1 > /dev/null 2> err.txt
check "a directory as output: refused" grep -q "is a directory, not a file" err.txt

"${Z[@]}" impute --data d.csv --out /dev/null --epochs 1 > /dev/null 2> err.txt
check "a device as output: written in place" bash -c "test -c /dev/null && ! grep -q error err.txt"

# A link is written where it points: /dev/stdout into a file stays a link, the file gets the data.
ln -s linked.csv link.csv
"${Z[@]}" simulate --out link.csv --genes 5 --cells 4 > /dev/null
check "a link as output: the link stays, its target gets the data" bash -c 'test -L link.csv && grep -q "^Cell1," linked.csv'
"${Z[@]}" simulate --out /dev/stdout --genes 5 --cells 4 > so.txt 2> err.txt
check "/dev/stdout redirected to a file: written there" bash -c 'test -L /dev/stdout && grep -q "^Cell1," so.txt'

# Two writers of one path at once: each writes its own temporary, the result is one of them.
"${Z[@]}" simulate --out a.ref --genes 1500 --cells 800 --seed 1 > /dev/null
"${Z[@]}" simulate --out b.ref --genes 1500 --cells 800 --seed 2 > /dev/null
"${Z[@]}" simulate --out same.csv --genes 1500 --cells 800 --seed 1 > /dev/null 2>&1 &
p1=$!
"${Z[@]}" simulate --out same.csv --genes 1500 --cells 800 --seed 2 > /dev/null 2>&1 &
p2=$!
wait $p1; c1=$?
wait $p2; c2=$?
check "two writers: both succeed" test $c1 -eq 0 -a $c2 -eq 0
check "two writers: the result is one of them, whole" bash -c 'cmp -s same.csv a.ref || cmp -s same.csv b.ref'
check "two writers: no temporary left" no_temps

# A full disk: a 1 MB tmpfs filled up, in a mount namespace of our own (root only).
if unshare -m true 2> /dev/null; then
    mkdir full
    unshare -m bash -c '
        mount -t tmpfs -o size=1m tmpfs full || exit 9
        printf "old result\n" > full/r.csv
        dd if=/dev/zero of=full/filler bs=4k > /dev/null 2>&1
        "$@" impute --data d.csv --out full/r.csv --epochs 1 > /dev/null 2> err.txt
        echo $? > code.txt
        cp full/r.csv r.after
        ls -a full > full.ls' _ "${Z[@]}"
    check "full disk: exit 1" test "$(cat code.txt)" = 1
    check "full disk: says so" grep -q "No space left on device\|ENOSPC" err.txt
    check "full disk: the old result intact" test "$(cat r.after)" = "old result"
    check "full disk: no temporary left" bash -c '! grep -q zimpute- full.ls'
else
    echo "SKIPPED: full disk (no mount namespace here)"
fi

# Killed while writing: --pi is a FIFO nobody reads, so the writer blocks on it. Devices and
# pipes are written before any temporary file is made, so SIGTERM (or, for a Node process blocked
# in a synchronous open, the KILL after it) leaves the old result and no temporary behind.
mkfifo pipe.fifo
printf 'old\n' > r.csv
"${Z[@]}" impute --data d.csv --out r.csv --pi pipe.fifo --epochs 1 > /dev/null 2> err.txt &
pid=$!
sleep 3
kill -TERM $pid 2> /dev/null
( sleep 5; kill -KILL $pid 2> /dev/null ) &
wait $pid 2> /dev/null
check "killed while writing: the old result intact" test "$(cat r.csv)" = old
check "killed while writing: no temporary left" no_temps
# Killed while training: ended by the signal, nothing written.
"${Z[@]}" impute --data d.csv --out k.csv --epochs 100000 --patience 100000 > /dev/null 2>&1 &
pid=$!
sleep 3
kill -TERM $pid
wait $pid 2> /dev/null
check "killed while training: ended by SIGTERM (exit 143)" test $? -eq 143
check "killed while training: no output, no temporary" bash -c 'test ! -e k.csv && ! ls -a | grep -q zimpute-'

report outputs
