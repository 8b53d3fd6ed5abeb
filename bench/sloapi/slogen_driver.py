"""Times slo-generator's compute over a folder of SLO configs (run with bench/.venv-slogen).

Usage: python slogen_driver.py SLO_DIR SHARED_CONFIG REPEATS -> prints JSON {"runs": [seconds...]}
"""

from __future__ import annotations

import json
import logging
import sys
import time

from slo_generator import utils
from slo_generator.compute import compute


def main() -> None:
    """Compute every SLO config of the folder REPEATS times; print the wall time of each run."""
    logging.disable(logging.CRITICAL)
    folder, shared, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    config = utils.load_config(shared)
    slos = utils.load_configs(folder, kind="ServiceLevelObjective")
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for slo in slos:
            compute(slo, config, timestamp=time.time())
        runs.append(time.perf_counter() - started)
    print(json.dumps({"slos": len(slos), "runs": runs}))


if __name__ == "__main__":
    main()
