#!/usr/bin/env bash
# Checks the solutions of the book's code exercises, so that none can rot.
#
#   bash docs/solutions/check.sh [NAME.patch ...]     (default: every one)
#
# Each docs/solutions/*.patch is a solution: a header of `# ` lines, then
# the diff (git apply skips the header). The header says how the exercise
# checks it:
#
#   # check: cargo test -p epoll --test conformance -- "trigger edge"
#   # expect: fail                  (or pass)
#   # expect-output: slow_reader +\.\.\. FAILED
#                   (any number of these: each an extended regular
#                   expression the output must match)
#
# The script copies the tracked files of this checkout to a scratch folder
# once, and then for each patch: applies it there (it must apply to the
# current tree), runs its check (bounded by `timeout`), compares the result
# with what the header expects, and reverts it. One target folder
# (target/solutions) serves every patch, so each builds only what it
# changed. It exits 1 if any patch fails to apply or any check does not do
# what its header says.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$scratch"
export CARGO_TARGET_DIR="$root/target/solutions"

if [ $# -gt 0 ]; then patches=("$@"); else patches=(docs/solutions/*.patch); fi
# Paths as given (relative to the caller's folder, or absolute).
for k in "${!patches[@]}"; do patches[$k]=$(cd "$OLDPWD" 2>/dev/null; realpath -- "${patches[$k]}"); done
failed=0
for patch in "${patches[@]}"; do
    name=$(basename "$patch")
    check=$(sed -n 's/^# check: //p' "$patch")
    expect=$(sed -n 's/^# expect: //p' "$patch")
    if [ -z "$check" ] || [ -z "$expect" ]; then
        echo "FAIL $name: no '# check:' or '# expect:' line"; failed=1; continue
    fi
    if ! (cd "$scratch" && git apply --check "$patch" 2>"$scratch/.apply"); then
        echo "FAIL $name: does not apply to this tree:"; cat "$scratch/.apply"; failed=1; continue
    fi
    (cd "$scratch" && git apply "$patch")
    started=$SECONDS
    (cd "$scratch" && timeout 900 bash -c "$check") >"$scratch/.out" 2>&1
    status=$?
    (cd "$scratch" && git apply -R "$patch")
    took=$((SECONDS - started))
    verdict=ok
    case "$expect" in
        pass) [ $status -eq 0 ] || verdict="the check failed (exit $status), the patch should make it pass" ;;
        fail)
            if [ $status -eq 0 ]; then
                verdict="the check passed, the patch should make it fail"
            elif [ $status -eq 124 ]; then
                verdict="the check ran out of time"
            fi ;;
        *) verdict="'# expect: $expect' is neither pass nor fail" ;;
    esac
    if [ "$verdict" = ok ]; then
        while IFS= read -r want; do
            grep -qE -- "$want" "$scratch/.out" || { verdict="its output does not say '$want'"; break; }
        done < <(sed -n 's/^# expect-output: //p' "$patch")
    fi
    if [ "$verdict" = ok ]; then
        echo "ok   $name: $check: ${expect}ed as expected (${took} s)"
    else
        echo "FAIL $name: $check: $verdict (${took} s); its output ends:"
        tail -n 30 "$scratch/.out"
        failed=1
    fi
done
exit $failed
