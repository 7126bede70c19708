# refundledger: `make run` starts the service with everything embedded,
# `make test` runs every check (what CI runs on a clean clone).

GO        ?= go
BIN       := bin/refundledger
DATA      ?= ./data
FUZZTIME  ?= 4s
# Every fuzz target, as package:FuzzName. `make fuzz` runs each for FUZZTIME.
FUZZ_TARGETS := $(shell grep -ho '^func Fuzz[A-Za-z0-9_]*' --include='*_test.go' -r proto ledger ingest projections 2>/dev/null | sort -u | sed 's/func //')

.PHONY: run build test vet fmtcheck unit fuzz bench clean

run: build
	$(BIN) serve --data $(DATA)

build:
	$(GO) build -o $(BIN) ./cmd/refundledger

test: fmtcheck vet unit fuzz

fmtcheck:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

# A short run of every fuzz target; the seeds in testdata/fuzz also run in `unit`.
fuzz:
	@mkdir -p bin
	@set -e; for name in $(FUZZ_TARGETS); do \
		pkg=$$(grep -rl "^func $$name(" --include='*_test.go' proto ledger ingest projections | head -1 | xargs dirname); \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) ./$$pkg > bin/fuzz.log 2>&1 || { cat bin/fuzz.log; exit 1; }; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./proto/ ./ledger/...

clean:
	rm -rf bin
