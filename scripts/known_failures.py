"""Known-failure lists for the corpus scripts (scripts/corpus-engines.sh,
scripts/verify-generate.sh): one `engine<TAB>path under corpus/sentinel<TAB>why` per line,
`#` comments. A failure not listed fails the run; so does a listed one that now passes,
unless `stale_ok` (so the lists cannot rot)."""
import sys


def load(known_file, engines):
    known = {}
    for line in open(known_file, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            engine, path, why = line.split("\t")
            if engine in engines:
                known[(engine, path)] = why
    return known


def corpus_path(path):
    return path.split("corpus/sentinel/", 1)[-1]


def judge(label, failed, known, known_file, stale_ok=False):
    """Prints new and stale entries; returns the exit status."""
    new = sorted(set(failed) - set(known))
    gone = sorted(set(known) - set(failed))
    for k in gone:
        print(f"{label}: known failure now passes (remove it from {known_file}): {k[0]} {k[1]}")
    for k in new:
        text = "\n  ".join(str(failed[k]).splitlines()[:12])
        print(f"{label}: NEW FAILURE {k[0]} {k[1]}\n  {text}")
    return 1 if new or (gone and not stale_ok) else 0


if __name__ == "__main__":
    sys.exit("a module for scripts/corpus-engines.sh and scripts/verify-generate.sh")
