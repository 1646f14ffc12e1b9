# Khantara. `make run` and `make test` are all a fresh machine with Go needs.
GO       ?= go
BIN      := bin/khantara
PKGS     := ./...
# golangci-lint, pinned; `go run` fetches it from the module proxy once.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
# Crash-test rounds: 20 in `make test`, more in `make test-long`.
CRASH_RUNS ?= 20

.PHONY: run build test test-net test-long bench bench-net trace-ingest fuzz lint clean

# A small federation of throwaway nodes on loopback, carrying the demo
# catalogue, until Ctrl-C. make run DEMO_FLAGS="--nodes 6 --keep" passes flags.
run: build
	@./$(BIN) demo $(DEMO_FLAGS)

build:
	$(GO) build -o $(BIN) ./cmd/khantara

test:
	$(GO) vet $(PKGS)
	KHANTARA_CRASH_RUNS=$(CRASH_RUNS) $(GO) test -race -timeout 15m $(PKGS)
	cd tools && $(GO) vet ./... && $(GO) test -count=1 ./...

# The real-NAT testbed (nettest/): network namespaces, NAT routers and
# five real daemons; needs root, ip and iptables (skipped without them
# unless KHANTARA_NETNS=required). About a minute; `make test` skips it.
test-net:
	KHANTARA_TESTNET=1 $(GO) test -count=1 -timeout 10m -v -run 'RealNAT' ./nettest

test-long:
	KHANTARA_CRASH_RUNS=200 $(GO) test -timeout 60m -count=1 -run 'Crash|Property' ./store

# Benchmarks print ratios measured side by side in one run. The node
# benchmarks build whole networks per call, so each gets a fixed count:
# 20 publications for Propagation, one session or catch-up for the others.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 20000x -timeout 30m ./store
	$(GO) test -run '^$$' -bench '^Benchmark(SyncBytes|SyncReconcile|CatchUp)$$' -benchtime 1x -timeout 20m ./node
	$(GO) test -run '^$$' -bench '^BenchmarkPropagation$$' -benchtime 20x -timeout 20m ./node
	$(GO) test -run '^$$' -bench '^BenchmarkGossipIngest$$' -benchtime 20000x -timeout 20m ./node
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./search
	$(GO) test -run '^$$' -bench . ./export
	$(MAKE) bench-net

# The churn simulation (node/churn_test.go): CHURN_NODES full nodes
# (default 100) and 5 hostile peers on mocknet links with latency and
# bandwidth, restarts, a partition, attacks; one run, under 10 minutes on
# 2 cores at 100 nodes.
CHURN_NODES ?= 100
bench-net:
	KHANTARA_CHURN_NODES=$(CHURN_NODES) $(GO) test -run '^$$' -bench '^BenchmarkChurn$$' -benchtime 1x -timeout 30m ./node

# An execution trace of BenchmarkIngest, taken apart by tools/schedtrace
# (tools/ is a module of its own): how busy the cores were in the ingest
# slices, and where the store's writer and Badger's watermark goroutines
# spent their time.
trace-ingest:
	@mkdir -p bin
	$(GO) test -run '^$$' -bench 'BenchmarkIngest$$/open\+apply$$' -benchtime 8000x -trace $(CURDIR)/bin/ingest.trace ./store
	cd tools && $(GO) run ./schedtrace -region ingest -g 'store.(*Store).writer' -g 'WaterMark).process' $(CURDIR)/bin/ingest.trace

# Each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePayload$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFast$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzParseSheet$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzFrameReader$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeID$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzChain$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzChainOps$$' -fuzztime $(FUZZTIME) ./protocol

# .golangci.yml: the standard linters, doc comments on exported names,
# no function over 80 lines or file over 450 outside tests, and the import
# direction of README's Layout. gofmt is one of its formatters.
lint:
	$(GO) vet $(PKGS)
	test -z "$$(gofmt -l .)"
	$(GOLANGCI_LINT) run ./...
	cd tools && $(GOLANGCI_LINT) run ./...

clean:
	rm -rf bin
