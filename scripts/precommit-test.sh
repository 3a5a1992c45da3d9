#!/usr/bin/env bash
# Runs the real pre-commit framework (from PyPI) with this repository's .pre-commit-hooks.yaml
# on a sample rule repository: a bad rule must fail the hook with a located finding, and the
# fixed rule must pass. Uses the `detc-lint-system` hook with target/debug/detc on PATH (the
# `detc-lint` hook differs only in letting pre-commit build detc with cargo).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.detc-ci/precommit-venv"
if [ ! -x "$venv/bin/pre-commit" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'pre-commit==4.*'
fi
(cd "$root" && cargo build --quiet --bin detc)
rev="$(git -C "$root" rev-parse HEAD)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/repo"
cd "$work/repo"
git init -q .
git config user.email ci@example.invalid
git config user.name ci
mkdir rules
# A rule whose entity mapping names a column the query drops (DL001).
sed 's/^  union isfuzzy=true aadSignin, aadNonInt$/  union isfuzzy=true aadSignin, aadNonInt\n  | project TimeGenerated, AccountCustomEntity/' \
    "$root/rules/privileged-accounts-failed-mfa.yaml" > rules/rule.yaml
cat > .pre-commit-config.yaml <<CFG
repos:
  - repo: $root
    rev: $rev
    hooks:
      - id: detc-lint-system
CFG
git add -A
export PATH="$root/target/debug:$PATH" PRE_COMMIT_HOME="$work/cache"
if "$venv/bin/pre-commit" run --all-files > "$work/out.txt" 2>&1; then
    cat "$work/out.txt"
    echo "precommit-test: the hook passed a rule with a DL001 error" >&2
    exit 1
fi
grep -q "rules/rule.yaml:[0-9]*:[0-9]*: error\[DL001\]" "$work/out.txt" || {
    cat "$work/out.txt"
    echo "precommit-test: no located DL001 finding in the hook's output" >&2
    exit 1
}
cp "$root/rules/privileged-accounts-failed-mfa.yaml" rules/rule.yaml
git add -A
"$venv/bin/pre-commit" run --all-files > "$work/out.txt" 2>&1 || {
    cat "$work/out.txt"
    echo "precommit-test: the hook failed on the clean seed rule" >&2
    exit 1
}
echo "precommit-test: ok (the hook fails the bad rule with DL001 and passes the fixed one)"
