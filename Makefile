# Thin wrappers over tasks.py (which needs only Python 3.11+).
.PHONY: run test lint lock bench
run:
	python3 tasks.py run
test:
	python3 tasks.py test
lint:
	python3 tasks.py lint
lock:
	python3 tasks.py lock
bench:
	python3 tasks.py bench
