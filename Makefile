# RouterLogger developer and CI targets. `make test` is what CI runs.
GO        ?= go
DATA      ?= ../shared/data/mtu-5g
BIN       := bin/routerlogger
TESTFLAGS ?= -race -count=1 -timeout=15m

.PHONY: all test test-go test-frontend test-fuzz services fmt-check vet build plugin demo bench clean

all: build

## test: start services, then check formatting, vet and run all tests with -race.
## Missing PostgreSQL or Mosquitto fails the tests instead of skipping them.
test: services fmt-check vet test-frontend test-fuzz test-go

test-go:
	ROUTERLOGGER_TEST_REQUIRE_DB=1 $(GO) test $(TESTFLAGS) ./...

## test-fuzz: fuzz the parsers of outside input for FUZZTIME each (go test
## runs only their seed corpora); a crasher fails the run and is saved
## under the package's testdata/fuzz. The budget is a count of inputs, not
## a duration: Go 1.26's fuzz coordinator can report a spurious "context
## deadline exceeded" when a duration runs out on a busy machine
## (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 100000x
FUZZ_TARGETS := ./ingest/webhook:FuzzParse ./ingest/webhook:FuzzMAC ./internal/mac:FuzzParse \
	./ingest/reading:FuzzParser_Parse ./internal/timeparse:FuzzParse ./ingest/usage:FuzzApply
test-fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## test-frontend: the Grafana plugin's editor tests and bundle check (Node 20, npm).
test-frontend:
	$(MAKE) -C grafana-plugin test-frontend

## plugin: build the loadable Grafana plugin into grafana-plugin/dist/.
plugin:
	$(MAKE) -C grafana-plugin backend frontend

## services: make sure PostgreSQL and Mosquitto answer on 127.0.0.1.
services:
	bash scripts/ensure-services.sh

## fmt-check: fail listing any file gofmt would change.
fmt-check:
	@unformatted="$$(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*' \
		-not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt needed on:"; echo "$$unformatted"; exit 1; \
	fi

vet:
	$(GO) vet ./...

## build: build the routerlogger binary into bin/.
build:
	$(GO) build -o $(BIN) ./cmd/routerlogger

## demo: run `routerlogger demo` on the sample recordings (DATA=folder to change).
demo: services build
	./$(BIN) demo --data $(DATA)

## bench: run the ingest benchmarks.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./ingest/...

clean:
	rm -rf bin grafana-plugin/dist coverage.out coverage.html cover.out *.prof *.test
