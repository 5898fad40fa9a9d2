"""course.checks.references: a student's call of a reference raises; honest calls do not.

The watch rebinds names in the course's modules, so it runs in a subprocess. A fake shell
stands in for IPython: cells are compiled under names that its ``compile._filename_map``
and ``linecache`` know, as IPython does.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import linecache, types
    import numpy as np
    import torch

    class Shell:
        compile = types.SimpleNamespace(_filename_map={})
        def transform_cell(self, source):
            return source

    shell, ns = Shell(), {}

    def run_cell(source, number):
        name = f"/tmp/ipykernel_0/{number}.py"
        shell.compile._filename_map[name] = number
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        exec(compile(source, name, "exec"), ns)

    SETUP = "from course.checks import standing_in\\n"
    TEST = ("from course.models.counting import count_fvsbn as reference\\n"
            "from course.models import FVSBN\\n"
            "results.append(reference(4))\\n"
            "model = FVSBN.from_numpy(np.zeros((3, 3)), np.zeros(3))\\n"
            "results.append(float(student_log_prob(model)))\\n"
            "with standing_in(globals(), count_fvsbn=reference):\\n"
            "    results.append(student_through_stand_in(5))\\n"
            "'autograder seal 0 0'\\n")
    from course.checks.references import ReferenceCallError, install
    wrapped = install(["course.models.counting", "course.models.fvsbn"], [SETUP, TEST], shell)
    ns.update(np=np, torch=torch, results=[])
    run_cell(SETUP, 1)
    run_cell(
        "from course.models.counting import count_fvsbn\\n"
        "def student_count(n):\\n    return count_fvsbn(n)\\n"
        "def student_log_prob(model):\\n    return model.log_prob(torch.zeros(1, 3))[0]\\n"
        "def student_through_stand_in(n):\\n    return count_fvsbn(n)\\n", 2)
    run_cell(TEST, 3)
    print("honest", ns["results"])
    ns["count_fvsbn"] = __import__("course.models.counting", fromlist=["x"]).count_fvsbn
    for call in ("student_count(3)",
                 "FVSBN.from_numpy(np.zeros((2, 2)), np.zeros(2))",
                 "FVSBN(2)"):
        try:
            run_cell(f"value = {call}\\n", 4)
        except ReferenceCallError as err:
            print("caught", err)
        else:
            print("missed", call)
    print("wrapped", wrapped)
''')


def test_student_calls_raise_and_honest_calls_pass() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    # the test cell calls the reference, hands a reference model to the student's code,
    # and lets a reference stand in for a student's function: all honest
    assert lines[0].startswith("honest [10, ") and lines[0].endswith(", 15]"), lines[0]
    caught = [line for line in lines if line.startswith("caught")]
    assert len(caught) == 3, lines
    assert "reference implementation of course.models.counting.count_fvsbn" in caught[0]
    assert "course.models.fvsbn.FVSBN.from_numpy" in caught[1]
    assert caught[2].startswith("caught calls the course's reference implementation of "
                                "course.models.fvsbn.FVSBN:")
    assert int(lines[-1].split()[1]) >= 5  # the counting functions
