# Installs the Debian packages a step needs, only those missing; sourced by .ci/run and
# web/serve.sh. Usage: zimpute_install_deps native|wasm|browser|fuzz...
zimpute_install_deps() {
    local want=() missing=() p
    for group in "$@"; do
        case "$group" in
            native) want+=(cmake g++ make libeigen3-dev doctest-dev zlib1g-dev) ;;
            wasm) want+=(emscripten libeigen3-dev nodejs) ;;
            browser) want+=(chromium npm) ;;
            fuzz) want+=(clang libclang-rt-14-dev) ;;
        esac
    done
    for p in "${want[@]}"; do
        # nodejs may come from another repository (e.g. NodeSource); a working node is enough.
        if [ "$p" = nodejs ] && command -v node > /dev/null; then continue; fi
        if [ "$p" = npm ] && command -v npm > /dev/null; then continue; fi
        dpkg -s "$p" > /dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "== installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
