"""Converts every `<name>.sigma.yml` in a folder with its `<name>.sigma-pipeline.yml` to KQL,
as `sigma convert -t kusto -p <pipeline> <rules>` does, in one process (sigma-cli costs about
a second per process). Prints one JSON object per line: file, queries or error."""

import json
import pathlib
import sys

from sigma.backends.kusto import KustoBackend
from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingPipeline

folder = pathlib.Path(sys.argv[1])
for rules in sorted(folder.glob("*.sigma.yml")):
    stem = rules.name[: -len(".sigma.yml")]
    out = {"file": rules.name}
    try:
        pipeline = ProcessingPipeline.from_yaml(
            (folder / f"{stem}.sigma-pipeline.yml").read_text()
        )
        backend = KustoBackend(processing_pipeline=pipeline)
        out["queries"] = backend.convert(SigmaCollection.from_yaml(rules.read_text()))
    except Exception as e:  # reported per file, the caller fails the test
        out["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out), flush=True)
