#!/usr/bin/env bash
# The CLI contract: RESULT_JSON last on stdout, one-line errors naming line and column,
# no output file after a failure, apply/evaluate/split/simulate round trips.
set -u
Z="$1"
source "$(dirname "${BASH_SOURCE[0]}")/shell_check.sh"

"$Z" simulate --out d.csv --truth-out t.csv --genes 60 --cells 80 --seed 3 > sim.out
check "simulate writes the course format" grep -q '^Cell1,Cell2,' d.csv
check "simulate reports" grep -q '^RESULT_JSON {"genes":60' sim.out

"$Z" impute --data d.csv --truth t.csv --out r.csv --metrics m.json --save m.zim --latent l.csv --epochs 3 > out.txt 2> err.txt
check "impute exits 0" test $? -eq 0
check "RESULT_JSON is the last stdout line" bash -c 'tail -n 1 out.txt | grep -q "^RESULT_JSON {\"parse_seconds\":.*\"train_seconds\":.*\"sec_per_epoch\":.*\"metrics\":{\"zero_num\""'
check "one progress line per epoch on stderr" test "$(grep -c '^epoch ' err.txt)" -eq 3
check "result keeps the header" test "$(head -n 1 r.csv)" = "$(head -n 1 d.csv)"
check "result has the input's shape" test "$(wc -l < r.csv)" -eq "$(wc -l < d.csv)"
check "metrics file" grep -q '"predict_distance"' m.json
check "latent: 32 units x cells" test "$(wc -l < l.csv)" -eq 33
check "latent header names the cells" test "$(head -n 1 l.csv)" = "latent,$(head -n 1 d.csv)"

"$Z" apply --model m.zim --data d.csv --out r2.csv > /dev/null 2>&1
check "apply with the saved model reproduces the result" cmp -s r.csv r2.csv
"$Z" evaluate --data d.csv --truth t.csv --imputed r.csv > ev.txt
check "evaluate" grep -q '"origin_distance"' ev.txt
"$Z" split --data d.csv --truth t.csv --out-prefix s > /dev/null
check "split 7:3" test "$(head -n 1 s_test.csv | tr ',' '\n' | wc -l)" -eq 56
check "split truth" test -s s_validation_truth.csv

"$Z" experiment --data d.csv --truth t.csv --epochs 2 --csv x.csv --out x.md > ex.txt 2> /dev/null
check "experiment: six models, best marked, RESULT_JSON last" bash -c 'test "$(grep -c "^| Model\|^| DCA\|^| \*\*\|^| zimpute" ex.txt)" -eq 6 && grep -q "(best)\*\*" ex.txt && tail -n 1 ex.txt | grep -q "^RESULT_JSON {\"variants\":6"'
check "experiment: CSV table" test "$(wc -l < x.csv)" -eq 7

mkdir -p tenx
printf '%%%%MatrixMarket matrix coordinate integer general\n3 4 6\n1 1 5\n2 2 3\n3 3 1\n1 4 2\n2 1 7\n3 2 4\n' > tenx/matrix.mtx
printf 'E1\tTP53\tGene Expression\nE2\tGAPDH\tGene Expression\nE3\tACTB\tGene Expression\n' > tenx/features.tsv
printf 'AAAC-1\nAAAG-1\nAACT-1\nAAGT-1\n' | gzip > tenx/barcodes.tsv.gz
"$Z" impute --data tenx --out tenx_out.csv --epochs 1 > /dev/null 2>&1
check "a 10x directory (gzipped barcodes) is read; result is a CSV with genes and barcodes" \
    bash -c 'test "$(head -n 1 tenx_out.csv)" = "gene,AAAC-1,AAAG-1,AACT-1,AAGT-1" && grep -q "^GAPDH," tenx_out.csv'
"$Z" impute --data tenx/matrix.mtx --out tenx_out2.csv --epochs 1 > /dev/null 2>&1
check "or its matrix.mtx" test -s tenx_out2.csv
cp tenx/features.tsv features.keep
"$Z" impute --data tenx --out tenx/features.tsv --epochs 1 > /dev/null 2> err.txt
check "an output on the 10x trio's features file is refused before work, the file kept" \
    bash -c 'grep -q "is the input --data" err.txt && cmp -s tenx/features.tsv features.keep'
"$Z" impute --data tenx/matrix.mtx --out r.csv --latent tenx/barcodes.tsv.gz --epochs 1 > /dev/null 2> err.txt
check "and on its barcodes file" grep -q "is the input --data" err.txt

# The shape of a CSV is decided from the whole file; --header and --row-names settle what it cannot.
printf '3,7,12\n0,3,1\n2,0,0\n5,1,1\n' > nohead.csv
"$Z" impute --data nohead.csv --out nh.csv --epochs 1 > /dev/null 2> err.txt
check "a line 1 of distinct numbers is refused as ambiguous, naming --header" \
    bash -c 'grep -q "line 1 holds only distinct numbers.*--header yes or --header no" err.txt && ! test -e nh.csv'
"$Z" impute --data nohead.csv --out nh.csv --header no --epochs 1 > /dev/null 2>&1
check "--header no reads it as data, written back without a header" test "$(wc -l < nh.csv)" -eq 4
"$Z" impute --data nohead.csv --out nh.csv --header sometimes > /dev/null 2> err.txt
check "--header takes auto, yes or no" grep -q "must be auto, yes or no, not 'sometimes'" err.txt
rm tenx/features.tsv
"$Z" impute --data tenx --out bad.csv > /dev/null 2> err.txt
check "a trio without features names what is missing" grep -q "no features.tsv beside tenx" err.txt

# The course report's Model I (course preset, no BatchNorm, original loss) with unbounded heads at a
# high learning rate: mu overflows, the guard recovers, and the run says so and ends normally.
"$Z" simulate --out big.csv --genes 400 --cells 300 --seed 5 > /dev/null
"$Z" impute --data big.csv --out r3.csv --preset course --batchnorm false --loss original --clip-heads false \
    --learning-rate 0.1 --epochs 3 > out.txt 2> err.txt
code=$?
check "model I: exits 0 with a result" test $code -eq 0 -a -s r3.csv
check "model I: the epoch line says it diverged and recovered" grep -q 'diverged in epoch 1 .* and recovered: restored' err.txt
check "model I: a closing line says it recovered" grep -q '^zimpute: training diverged [1-9][0-9]* time(s) and recovered each time' err.txt
check "model I: RESULT_JSON counts the recoveries" grep -q '"recoveries":[1-9]' out.txt
check "model I: no NaN in the result" bash -c '! grep -qi nan r3.csv'

printf 'Cell1,Cell2,Cell3\n1,2,3\n4,5\n' > ragged.csv
"$Z" impute --data ragged.csv --out bad.csv > /dev/null 2> err.txt
code=$?
check "bad input exits 1" test $code -eq 1
check "bad input: one line naming the line" test "$(cat err.txt)" = "zimpute: error: ragged.csv: line 3: expected 3 fields (as in the header, comma-separated), found 2"
check "bad input leaves no output file" test ! -e bad.csv
printf 'Cell1,Cell2\n1,oops\n2,3\n' > text.csv
"$Z" impute --data text.csv --out bad.csv > /dev/null 2> err.txt
check "non-numeric value names line and column" grep -q "text.csv: line 2, column 2: expected a non-negative number, found 'oops'" err.txt
check "no output after that either" test ! -e bad.csv
"$Z" impute --data d.csv --out bad.csv --epoch 3 > /dev/null 2> err.txt
check "unknown option is rejected" grep -q "unknown option 'epoch'" err.txt
"$Z" impute --out bad.csv > /dev/null 2> err.txt
check "missing --data is a usage error" test $? -eq 2
"$Z" impute --data d.csv --out bad.csv --model m.zim > /dev/null 2> err.txt
check "impute takes no --model (apply does): a usage error" \
    bash -c "test $? -eq 2 && test \"\$(cat err.txt)\" = \"zimpute: 'impute' does not take --model\" && test ! -e bad.csv"
"$Z" impute --data=d.csv --out=kv.csv --epochs=1 --quiet > /dev/null 2>&1
check "--key=value works like --key value" test -s kv.csv
"$Z" --help > help.txt
check "--help documents every option with its default" bash -c 'grep -q -- "--learning-rate 0.01" help.txt && grep -q -- "--rule posterior" help.txt && grep -q -- "--dispersion cell-gene" help.txt'

report cli
