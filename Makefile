.PHONY: demo test lint
demo:  ## install, migrate, seed and run the app with a worker and beat (SQLite, no Redis)
	./scripts/demo
test:  ## the whole test suite on PostgreSQL and Redis
	./scripts/test
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
