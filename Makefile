# refundledger: `make run` starts the service with everything embedded,
# `make test` runs every check (what CI runs on a clean clone).

SHELL     := bash
GO        ?= go
BIN       := bin/refundledger
DATA      ?= ./data
# Fuzz budget per target, as a count of executions: a duration races the
# fuzz coordinator's deadline on a busy machine and fails with "context
# deadline exceeded" without any failing input (golang/go#75804, Go 1.26).
FUZZTIME  ?= 20000x
# Every fuzz target (FuzzXxx in a _test.go file). `make fuzz` runs each for FUZZTIME.
FUZZ_DIRS    := proto ledger ingest projections cmd
FUZZ_TARGETS := $(shell grep -ho '^func Fuzz[A-Za-z0-9_]*' --include='*_test.go' -r $(FUZZ_DIRS) 2>/dev/null | sort -u | sed 's/func //')

.PHONY: run build test vet fmtcheck unit fuzz bench clean

run: build
	$(BIN) serve --data $(DATA)

build:
	$(GO) build -o $(BIN) ./cmd/refundledger

test: fmtcheck vet unit fuzz
	@pkgs=$$(grep -c '^ok' bin/unit.log); fuzz=$(words $(FUZZ_TARGETS)); \
	echo "$$pkgs test packages passed (go test -race), $$fuzz fuzz targets ran $(FUZZTIME) each without a failure"; \
	echo "checks: $$((pkgs + fuzz)) passed, 0 failed"

fmtcheck:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	@mkdir -p bin
	set -o pipefail; $(GO) test -race -count=1 ./... 2>&1 | tee bin/unit.log

# A short run of every fuzz target; their seed corpora (f.Add) also run in `unit`.
fuzz:
	@mkdir -p bin
	@set -e; for name in $(FUZZ_TARGETS); do \
		pkg=$$(grep -rl "^func $$name(" --include='*_test.go' $(FUZZ_DIRS) | head -1 | xargs dirname); \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) ./$$pkg > bin/fuzz.log 2>&1 || { cat bin/fuzz.log; exit 1; }; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./proto/ ./ledger/...

clean:
	rm -rf bin
