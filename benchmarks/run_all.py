"""`make bench`: run every benchmark in this folder and print one table of its figures.

Each `bench_*.py` exposes `main() -> dict` and prints its own figures beside
the baseline it measured in the same run; this script runs them one after
another, each in a fresh process (a benchmark's peak RSS must not include what an
earlier one held, nor its process settings leak into the next), prints the ratios
together and writes everything to `benchmarks/results/<timestamp>.json`.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def run_one(path: Path, out: Path) -> None:
    """In the child: run one benchmark's main() and write its figures to `out`."""
    sys.path.insert(0, str(HERE.parent))
    out.write_text(json.dumps(_load(path).main(), default=str))


def main() -> int:
    results: dict[str, dict] = {}
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {path.name}", flush=True)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "figures.json"
            # One broken benchmark must not hide the others' figures.
            proc = subprocess.run([sys.executable, __file__, "--one", str(path), str(out)],
                                  check=False)
            if proc.returncode != 0 or not out.exists():
                failed.append(path.stem)
                continue
            results[path.stem] = json.loads(out.read_text())
        results[path.stem]["seconds"] = round(time.perf_counter() - started, 1)

    print("\n=== summary (ratios against baselines or bounds measured in the same run)")
    print(f"{'benchmark':18} {'figure':40} value")
    for name, figures in results.items():
        for key, value in figures.items():
            if key.startswith("ratio") or key.endswith("_met"):
                print(f"{name:18} {key:40} {value}")
    if failed:
        print(f"failed: {', '.join(failed)}")
    out = HERE / "results" / f"{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"results": results, "failed": failed}, indent=2, default=str))
    print(f"figures written to {out.relative_to(HERE.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        run_one(Path(sys.argv[2]), Path(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
