# Sourced by the shell tests (cli_test.sh, outputs_test.sh): a scratch directory removed on exit,
# `check NAME CONDITION...` counting passes and failures, and `report NAME` printing the
# 'N passed, N failed' line and failing the script if anything failed.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
passed=0
failed=0
check() {  # check NAME CONDITION...
    local name="$1"
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
report() {
    echo "$1: $passed passed, $failed failed"
    test $failed -eq 0
}
