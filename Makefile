# Benchmarks. `make bench` writes bench.txt in benchstat's format, so two
# runs compare with: benchstat old.txt bench.txt
# (go install golang.org/x/perf/cmd/benchstat@latest).
# Set KEEL_TEST_DATABASE_URL to include PostgreSQL.

GO         ?= go
BENCH      ?= .
BENCHCOUNT ?= 6
BENCHTIME  ?= 1s
BENCH_OUT  ?= bench.txt

.PHONY: bench load test

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCHCOUNT) -benchtime $(BENCHTIME) . ./httpapi/ | tee $(BENCH_OUT)

# The load harness (bench/README.md): wrk against keel serve on each store.
load:
	./bench/run.sh

test:
	$(GO) test ./...
